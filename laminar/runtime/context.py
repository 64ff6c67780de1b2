"""What a running layer sees (``self._laminar_runtime``), what its downstream views read
through, and how a task's failure is reported: the small objects ``Runtime`` hands out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from laminar.errors import LaminarError
from laminar.ir import LayerSpec
from laminar.model.layer import RESERVED_OUTPUTS, Layer
from laminar.runtime.decisions import Ended, ended, task_state
from laminar.runtime.outputs import check_output_name
from laminar.store.accessor import Accessor
from laminar.store.datastore import DatastoreWriteError
from laminar.store.execution import Execution, not_finished


@contextlib.contextmanager
def in_layer(layer: str) -> Iterator[None]:
    """Name ``layer`` in a datastore write error raised inside (a full or read-only disk)."""
    try:
        yield
    except DatastoreWriteError as error:
        raise type(error)(f"Layer {layer}: {error}") from None


class TaskFailed(LaminarError):
    """A user's layer raised; carries the layer, the task index and the user's traceback."""

    def __init__(self, layer: str, index: int | None, error: str, user_traceback: str) -> None:
        where = layer if index is None else f"{layer}[{index}]"
        super().__init__(f"{where} failed: {error}")
        self.layer = layer
        self.index = index
        self.error = error
        self.user_traceback = user_traceback


@contextlib.contextmanager
def user_code(layer: str, index: int | None) -> Iterator[None]:
    """Run the user's code of task ``index`` of ``layer`` (``__call__``, hooks): what it raises
    becomes ``TaskFailed`` with the user's traceback; laminar's own errors and Ctrl-C pass."""
    try:
        yield
    except LaminarError:
        raise
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        raise failed(layer, index, error) from error


def failed(layer: str, index: int | None, error: BaseException) -> TaskFailed:
    """``TaskFailed`` for the user's ``error`` raised in task ``index`` of ``layer``."""
    try:
        text = str(error)
    except Exception:  # its __str__ raises: name it, as Python's own traceback does
        text = "<exception str() failed>"
    return TaskFailed(layer, index, f"{type(error).__name__}: {text}", user_traceback(error))


def user_traceback(error: BaseException) -> str:
    """The traceback from the user's ``__call__`` or hook down, without laminar's frames."""
    from laminar.tracebacks import user_frames  # only a failing task pays for it

    return "Traceback (most recent call last):\n" + user_frames(error)


class TaskContext:
    """What a running layer sees as ``self._laminar_runtime``.

    (A plain class: making a dataclass costs every deployed task's start-up a little.)
    """

    def __init__(
        self,
        execution: Execution,
        layer: str,
        index: int | None,
        attempt: str,
        shards: dict[str, tuple[Any, Accessor]],
        *,
        splits: int = 1,
        attempt_number: int = 1,
        configuration: Any = None,
    ) -> None:
        self.execution = execution
        self.layer = layer
        self.index = index
        self.attempt = attempt
        self.shards = shards
        self.splits = splits
        self.attempt_number = attempt_number
        self.configuration = configuration

    def shard(self, layer: Layer, attribute: str, values: Iterable[Any]) -> Accessor:
        if isinstance(values, (str, bytes)) or not _is_iterable(values):
            raise LaminarError(
                f"Layer {self.layer}: self.shard({attribute}=...) got a "
                f"{type(values).__name__}, which is not iterable. Pass a list, range, "
                f"generator or other iterable; each element is stored separately."
            )
        if attribute.startswith("_"):
            raise LaminarError(
                f"Layer {self.layer}: self.shard({attribute}=...): shard names cannot start "
                "with an underscore (those attributes are private to the run)."
            )
        check_output_name(self.layer, attribute)
        if not self.attempt:  # the instance an entry hook decides on stores nothing
            raise LaminarError(
                f"Layer {self.layer}: self.shard({attribute}=...) in an entry hook, which only "
                "decides whether the layer runs; call self.shard() in __call__ or in an "
                "execution hook."
            )
        entry = self.execution.codec.write_shard(self.layer, attribute, values, self.attempt)
        accessor = self.execution.codec.decode(entry, f"{self.layer}.{attribute}")
        assert isinstance(accessor, Accessor)
        self.shards[attribute] = (entry, accessor)
        return accessor


class UpstreamReader:
    """Reads an upstream layer's attributes for a downstream view, caching on the view.

    ``task`` set: the view is that one task of a ForEach layer (a 1:1 mapping,
    ``Parameter(index=None)``), so every attribute is that task's own, not the join's.
    """

    def __init__(
        self,
        execution: Execution,
        view: Layer,
        upstream: LayerSpec,
        reader: str,
        task: int | None = None,
    ) -> None:
        self.execution = execution
        self.view = view
        self.upstream = upstream
        self.reader = reader
        self.task = task
        self.names: frozenset[str] | None = None
        self._ended: Ended | None = None

    @property
    def finished(self) -> bool:
        """Whether the upstream layer (or, for a 1:1 view, its task) finished:
        ``view.state.finished``."""
        return self.ended().finished

    def ended(self) -> Ended:
        if self._ended is None:
            name = self.upstream.name
            if self.task is not None:
                self._ended = task_state(self.execution, name, self.task)
            else:
                state = ended(self.execution, name, foreach=self.upstream.is_foreach)
                self._ended = state if state is not None else Ended(False, "not run")
        return self._ended

    def stores(self, attribute: str) -> bool:
        """Whether what the upstream stored answers ``attribute`` rather than its class: it
        stored it, or the name is one of its outputs (reading it then gives the value, the
        empty join, or says why it is missing: never the class's own value of that name)."""
        if attribute in RESERVED_OUTPUTS:
            return False
        if self.names is None:
            self.names = self._stored_names()
        return attribute in self.names or self._output(attribute)

    def _stored_names(self) -> frozenset[str]:
        name = self.upstream.name
        if self.task is None:
            return self.execution.stored_names(name, foreach=self.upstream.is_foreach)
        manifest = self.execution.commits.read_manifest(name, str(self.task))
        ok = manifest is not None and manifest.finished
        return frozenset(manifest.attributes) if ok and manifest is not None else frozenset()

    def _output(self, attribute: str) -> bool:
        """Whether the class's own ``attribute`` (``name``, ``index``, a class default) is
        one the layer sets itself, so that it must not answer for a value not stored."""
        cls = type(self.view)
        if not hasattr(cls, attribute) or callable(getattr(cls, attribute)):
            return False  # not the class's (read from the store anyway), or a method
        from laminar.model.attributes import assigned_attributes  # read only in this case

        assigned = assigned_attributes(cls)
        if assigned is not None:
            return attribute in assigned.names
        return not self.names  # unknown: only when the upstream stored nothing at all

    def read(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        name = self.upstream.name
        if self.task is None:
            value = self.execution.attribute(
                name, attribute, reader=self.reader, foreach=self.upstream.is_foreach
            )
        else:
            state = self.ended()
            if not state.finished:
                why = f"task {self.task}: {state.reason}"
                raise not_finished(self.reader, name, attribute, why)
            entry = self.execution.entry(name, str(self.task), attribute, reader=self.reader)
            value = self.execution.codec.decode(entry, f"{name}.{attribute}[{self.task}]")
        self.view.__dict__[attribute] = value
        return value


def _is_iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True
