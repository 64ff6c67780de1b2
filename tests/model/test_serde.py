"""Serde protocols, as the original laminar library's docs teach them: values of registered
types are stored with the user's format instead of pickle, and read back with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from laminar import Flow, Layer
from laminar.configurations import datastores, serde
from laminar.errors import ArtifactError

CALLS: list[str] = []


class Point(dict[str, Any]):
    """A type of the flow's own: protocols match exact type names (never a subclass)."""


@pytest.fixture
def json_points() -> Iterator[type[serde.Protocol[Point]]]:
    """Register a protocol for Point for one test (the registry is process-wide)."""
    saved = dict(serde.PROTOCOLS)
    datastore = datastores.Local()

    @datastore.protocol(Point)
    class JsonProtocol(serde.Protocol[Point]):
        def dumps(self, value: Point) -> bytes:
            CALLS.append("dumps")
            return json.dumps(value).encode()

        def loads(self, stream: bytes) -> Point:
            CALLS.append("loads")
            return Point(json.loads(stream))

    yield JsonProtocol
    serde.PROTOCOLS.clear()
    serde.PROTOCOLS.update(saved)


class SerdeFlow(Flow): ...


@SerdeFlow.register
class Write(Layer):
    def __call__(self) -> None:
        self.small = Point(a=1)
        self.big = Point(k="x" * 100_000)  # over the inline size: a checked file
        self.other = {"plain": [1, 2]}  # no protocol: pickled


@SerdeFlow.register
class Read(Layer):
    def __call__(self, write: Write) -> None:
        self.seen = (type(write.small).__name__, write.small, len(write.big["k"]), write.other)


def test_registered_types_use_the_protocol(
    tmp_path: Path, json_points: type[serde.Protocol[Point]]
) -> None:
    CALLS.clear()
    execution = SerdeFlow(datastore=str(tmp_path))()
    assert execution.layer(Read).seen == ("Point", {"a": 1}, 100_000, {"plain": [1, 2]})
    assert CALLS.count("dumps") == 2 and CALLS.count("loads") >= 2
    stored = [p.read_bytes() for p in tmp_path.rglob("big.value")]
    assert stored == [json.dumps({"k": "x" * 100_000}).encode()]  # the user's format on disk
    assert json_points().dumps(Point(a=1)) == b'{"a": 1}'  # a testable class


def test_reading_without_the_protocol_is_a_clear_error(
    tmp_path: Path, json_points: type[serde.Protocol[Point]]
) -> None:
    execution = SerdeFlow(datastore=str(tmp_path))()
    serde.PROTOCOLS.clear()
    with pytest.raises(ArtifactError, match="stored by a serde protocol for Point"):
        _ = SerdeFlow.results(execution, str(tmp_path))["Write"].small


def test_protocol_registration_is_checked() -> None:
    with pytest.raises(Exception, match="takes the types it stores"):
        serde.protocol()
    with pytest.raises(Exception, match=r"decorates serde\.Protocol subclasses"):
        serde.protocol(int)(object)  # type: ignore[type-var]
