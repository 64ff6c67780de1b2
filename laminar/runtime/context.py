"""What a running layer sees (``self._laminar_runtime``), what its downstream views read
through, and how a task's failure is reported: the small objects ``Runtime`` hands out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from laminar.configurations.layers import Container, Retry
from laminar.errors import LaminarError
from laminar.ir import LayerSpec, ParameterSpec
from laminar.model.layer import Layer
from laminar.store.accessor import Accessor
from laminar.store.datastore import DatastoreWriteError
from laminar.store.execution import Execution, not_finished

if TYPE_CHECKING:
    from laminar.runtime.task import Runtime


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
    return TaskFailed(layer, index, f"{type(error).__name__}: {error}", user_traceback(error))


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
        shards: dict[str, tuple[str, Any]],
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
        entry = self.execution.codec.write_shard(self.layer, attribute, values, self.attempt)
        self.shards[attribute] = entry
        accessor = self.execution.codec.decode(entry, f"{self.layer}.{attribute}")
        assert isinstance(accessor, Accessor)
        return accessor


class UpstreamReader:
    """Reads an upstream layer's attributes for a downstream view, caching on the view."""

    def __init__(self, runtime: Runtime, view: Layer, upstream: LayerSpec, reader: str) -> None:
        self.runtime = runtime
        self.view = view
        self.upstream = upstream
        self.reader = reader
        self.names: frozenset[str] | None = None
        #: Attributes bound to this task's element of an upstream task that did not finish.
        self.missing: dict[str, str] = {}

    @property
    def finished(self) -> bool:
        """Whether the upstream layer finished (``view.state.finished``). In a task mapped
        1:1 onto a ForEach layer (``Parameter(index=None)``) the view is that layer's task,
        so it says whether that task finished."""
        from laminar.runtime.decisions import layer_state

        if self.missing:
            return False

        ended = layer_state(self.runtime, self.upstream.name)
        return ended is not None and ended.finished

    def stores(self, attribute: str) -> bool:
        if attribute in self.missing:
            return False
        if self.names is None:
            self.names = self.runtime.execution.stored_names(
                self.upstream.name, foreach=self.upstream.is_foreach
            )
        return attribute in self.names

    def read(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if attribute in self.missing:
            raise not_finished(self.reader, self.upstream.name, attribute, self.missing[attribute])
        value = self.runtime.execution.attribute(
            self.upstream.name, attribute, reader=self.reader, foreach=self.upstream.is_foreach
        )
        self.view.__dict__[attribute] = value
        return value


class LayerConfiguration:
    """``self.configuration`` of a running layer: how it was registered (read-only)."""

    __slots__ = ("container", "foreach", "retry")
    container: Container | None
    retry: Retry | None
    foreach: tuple[ParameterSpec, ...]

    def __init__(
        self,
        container: Container | None,
        retry: Retry | None,
        foreach: tuple[ParameterSpec, ...],
    ) -> None:
        object.__setattr__(self, "container", container)
        object.__setattr__(self, "retry", retry)
        #: The ForEach parameters: ``(layer, attribute, mapped)`` each; empty without ForEach.
        object.__setattr__(self, "foreach", foreach)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"self.configuration.{name} is read-only")

    def __repr__(self) -> str:
        return (
            f"LayerConfiguration(container={self.container!r}, retry={self.retry!r}, "
            f"foreach={self.foreach!r})"
        )


def _is_iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True
