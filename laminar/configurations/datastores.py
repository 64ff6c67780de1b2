"""Datastore configurations in the original laminar library's spelling, as fsspec URLs.

``Flow(datastore=datastores.Local(root="runs"))`` is ``--datastore runs``; ``Memory()`` is an
in-memory store for tests (one process); ``AWS.S3(bucket=..., prefix=...)`` is ``s3://``.
Any URL string is accepted wherever these are.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from laminar.configurations import serde

P = TypeVar("P", bound="serde.Protocol[object]")

_MEMORY = itertools.count()


class Datastore:
    """Base of the datastore configurations: each is one fsspec URL."""

    @property
    def url(self) -> str:
        raise NotImplementedError

    def protocol(self, *types: type) -> Callable[[type[P]], type[P]]:
        """``@datastore.protocol(dict, list)``: store values of these exact types with the
        decorated ``serde.Protocol`` (see ``laminar.configurations.serde``)."""
        return serde.protocol(*types)


@dataclass(frozen=True)
class Local(Datastore):
    """A directory on this machine (default ``.laminar`` in the working directory)."""

    root: str = ".laminar"

    @property
    def url(self) -> str:
        return self.root


@dataclass(frozen=True)
class Memory(Datastore):
    """An in-memory store that lives as long as the process: for tests. Each ``Memory()`` is
    its own store; forked workers do not share it, so flows using it run in-process."""

    name: str = field(default_factory=lambda: f"laminar-{os.getpid()}-{next(_MEMORY)}")

    @property
    def url(self) -> str:
        return f"memory://{self.name}"


class AWS:
    """Amazon Web Services datastores."""

    @dataclass(frozen=True)
    class S3(Datastore):
        """``s3://bucket/prefix``; credentials come from the environment or AWS profile."""

        bucket: str
        prefix: str = ""

        @property
        def url(self) -> str:
            return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def datastore_url(datastore: str | Datastore | None) -> str | None:
    """The fsspec URL a datastore configuration (or URL) stands for."""
    return datastore.url if isinstance(datastore, Datastore) else datastore
