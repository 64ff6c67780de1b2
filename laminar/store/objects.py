"""The stored objects of one execution: where they are and how they are checked.

The bottom of an execution's parts. ``Commits``, ``Codec``, the Accessor sources and the
inputs each get an ``Objects`` when they are made and never reach up to the ``Execution``
facade that composes them, so the store's modules import each other in one direction:
datastore <- layout, integrity <- objects <- commits <- sources <- codec <- execution.
"""

from __future__ import annotations

from laminar.errors import ArtifactError
from laminar.store.datastore import Datastore
from laminar.store.integrity import Place, Seal, Tag
from laminar.store.layout import Layout


class Objects:
    """One execution's datastore, paths and seal, with the reads every part shares."""

    def __init__(self, store: Datastore, layout: Layout, seal: Seal) -> None:
        self.store = store
        self.layout = layout
        self.seal = seal
        #: Checked 64 KiB blocks of shard chunks, by (chunk path, block): every task of a
        #: ForEach over a shard reads its element from the same few blocks.
        self.blocks: dict[tuple[str, int], bytes] = {}

    @property
    def id(self) -> str:
        """The execution's id, as given."""
        return self.layout.execution

    def place(self, layer: str, task: str, name: str) -> Place:
        """Where a commit belongs, which its signature is bound to."""
        return (self.layout.flow, self.layout.execution, layer, task, name)

    def rerun_fix(self, layer: str) -> str:
        """The remedy for a damaged artifact of ``layer``, for error messages."""
        return (
            f"Re-run {layer} and the layers after it: laminar run FLOW --execution {self.id} "
            f"--rerun {layer}"
        )

    def read_checked(self, relative: str, tag: Tag, label: str) -> bytes:
        """The bytes of the file ``relative`` names, checked against ``tag`` (from its commit).

        ``label`` is ``Layer.attr`` or ``Layer.attr[task]``: errors name it and the fix.
        """
        path = self.layout.absolute(relative)
        layer = label.split(".", 1)[0]
        data = self.store.read_or_none(path)
        if data is None:
            raise ArtifactError(
                f"{label}: the file {path} is missing from the datastore, though its commit "
                f"names it. {self.rerun_fix(layer)}"
            )
        self.seal.check(data, tag, f"{label}: the file {path}", self.rerun_fix(layer))
        return data
