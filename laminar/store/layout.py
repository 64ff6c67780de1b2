"""Where each artifact of one execution lives: the only module that builds datastore paths.

::

    <root>/<Flow>/<execution>/execution.json              created when the execution starts
    <root>/<Flow>/<execution>/lease.json                  the local writer's lease (laminar run)
    <root>/<Flow>/<execution>/inputs.json                 the execution's inputs, sealed
    <root>/<Flow>/<execution>/<Layer>/plan.json           ForEach layers: count, legs, axes
    <root>/<Flow>/<execution>/<Layer>/tasks/<task>.manifest
    <root>/<Flow>/<execution>/<Layer>/tasks/<first>-<last>.group
    <root>/<Flow>/<execution>/<Layer>/data/<task>/<attempt>/...
    <root>/<Flow>/@cache/<Layer>/<key>.json                a cache entry (docs/caching.md)

Every name a user chooses (flow, execution id, layer, attribute) goes through ``safe_key``,
which keeps it readable, unique and within file-name limits.
"""

from __future__ import annotations

from laminar.store.datastore import Datastore, safe_key, unique_name

EXECUTION_RECORD = "execution.json"
LEASE = "lease.json"
INPUTS = "inputs.json"
#: The flow's cache index (docs/caching.md): ``<root>/<Flow>/@cache/<Layer>/<key>.json``.
CACHE = "@cache"


class Layout:
    """The paths of one execution of one flow in one datastore."""

    def __init__(self, store: Datastore, flow: str, execution: str) -> None:
        #: The names as given (signatures are bound to them), and the execution's directory.
        self.flow = flow
        self.execution = execution
        self.base = store.path(safe_key(flow), safe_key(execution))

    def layer_dir(self, layer: str) -> str:
        return f"{self.base}/{safe_key(layer)}"

    def tasks_dir(self, layer: str) -> str:
        return f"{self.layer_dir(layer)}/tasks"

    def manifest(self, layer: str, task: str) -> str:
        return f"{self.tasks_dir(layer)}/{task}.manifest"

    def group(self, layer: str, name: str) -> str:
        return f"{self.tasks_dir(layer)}/{name}"

    def plan(self, layer: str) -> str:
        return f"{self.layer_dir(layer)}/plan.json"

    def record(self) -> str:
        return f"{self.base}/{EXECUTION_RECORD}"

    def lease(self) -> str:
        return f"{self.base}/{LEASE}"

    def inputs(self) -> str:
        return f"{self.base}/{INPUTS}"

    def new_attempt_dir(self, layer: str, task: str) -> str:
        """A directory private to one attempt, relative to the execution directory."""
        return f"{safe_key(layer)}/data/{task}/{unique_name()}"

    def absolute(self, relative: str) -> str:
        """The path of ``relative``: under this execution, or, written ``../<execution>/...``
        (a task served from the cache refers to the original's files), under another
        execution of the same flow, resolved here so no ``..`` ever reaches the store."""
        if relative.startswith("../"):
            return f"{self.base.rsplit('/', 1)[0]}/{relative[3:]}"
        return f"{self.base}/{relative}"

    def cache_dir(self, layer: str) -> str:
        """Where the cache entries of ``layer`` live, beside the flow's executions: ``@`` is
        never in a ``safe_key``, so no execution's directory can have this name."""
        return f"{self.base.rsplit('/', 1)[0]}/{CACHE}/{safe_key(layer)}"

    @staticmethod
    def value_file(attempt: str, attribute: str) -> str:
        return f"{attempt}/{safe_key(attribute)}.value"

    @staticmethod
    def chunk_file(attempt: str, attribute: str, k: int) -> str:
        return f"{attempt}/{safe_key(attribute)}.{k:06d}.chunk"
