"""The ``Flow`` base class: a registry of layers plus the ``if flow := MyFlow(): flow()`` idiom."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from laminar.configurations.settings import (
    FlowOptions,
    FlowSettings,
    LayerOptions,
    LayerSettings,
    settings_of,
)
from laminar.errors import ConfigurationError
from laminar.model.layer import Layer
from laminar.model.parameters import PARAMETERS, Parameters

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from laminar.configurations.datastores import Datastore as DatastoreConfig
    from laminar.configurations.executors import Executor
    from laminar.configurations.schedulers import Scheduler
    from laminar.ir import FlowIR
    from laminar.runtime.handle import Execution
    from laminar.runtime.results import ExecutionResults

L = TypeVar("L", bound=type[Layer])

#: Set while laminar itself imports a flow file, so that ``MyFlow()`` is falsy there and the
#: ``if flow := MyFlow(): flow()`` idiom does not start a run during inspection or compiling.
LOADING: contextvars.ContextVar[bool] = contextvars.ContextVar("laminar_loading", default=False)


class _class_property:
    """A read-only attribute computed from the class, read on the class or an instance
    (``classmethod`` stacked on ``property`` no longer works from Python 3.13)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function
        self.__doc__ = function.__doc__

    def __get__(self, instance: object, owner: type) -> Any:
        return self.function(owner)


@dataclass(frozen=True)
class Registration:
    """A layer class as registered in one flow, with its settings."""

    layer: type[Layer]
    settings: LayerSettings


class Flow:
    """A workflow: subclass it, then register layers with ``@MyFlow.register``.

    ``MyFlow()`` is truthy only when the flow's file runs as a script, so
    ``if flow := MyFlow(): flow()`` runs the flow locally with ``python flow.py`` and does
    nothing when laminar loads the file to compile or inspect it.
    """

    _registrations: ClassVar[list[Registration]] = []
    #: The flow-wide settings (``class MyFlow(Flow, name=value)``); private, so that no
    #: input the user declares on the class can clash with it.
    _flow_settings: ClassVar[FlowSettings] = FlowSettings()
    _own_settings: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **given: Unpack[FlowOptions]) -> None:
        super().__init_subclass__()
        cls._registrations = []
        # Composition (class Combined(Flow1, Flow2)): the bases' settings, the first base
        # winning, then the class's own keywords.
        merged: dict[str, Any] = {}
        for base in reversed(cls.__mro__[1:]):
            merged.update(base.__dict__.get("_own_settings", {}))
        cls._own_settings = dict(given)
        owner = f"class {cls.__name__}(Flow, ...)"
        cls._flow_settings = settings_of(FlowSettings, owner, {**merged, **given})

    @classmethod
    def registrations(cls) -> list[Registration]:
        """This flow's layers: those of the flows it inherits from (composition:
        ``class Combined(Flow1, Flow2)``), then its own, each layer once."""
        found: list[Registration] = []
        earlier: set[type[Layer]] = set()  # layers of flows already merged in
        for klass in reversed(cls.__mro__):
            if isinstance(klass, type) and issubclass(klass, Flow):
                own = klass.__dict__.get("_registrations", [])
                found += [r for r in own if r.layer not in earlier]
                earlier.update(r.layer for r in own)
        return found

    @_class_property
    def registry(cls) -> dict[str, Registration]:
        """Layer name -> its registration, the built-in ``Parameters`` layer included (the
        original library's ``Flow.registry``): ``Combined.registry["A"].layer is A``."""
        found = {PARAMETERS: Registration(Parameters, LayerSettings())}
        found.update((r.layer.__name__, r) for r in cls.registrations())
        return found

    @overload
    @classmethod
    def register(cls, layer: L, /) -> L: ...

    @overload
    @classmethod
    def register(
        cls, layer: None = None, /, **settings: Unpack[LayerOptions]
    ) -> Callable[[L], L]: ...

    @classmethod
    def register(
        cls, layer: L | None = None, /, **settings: Unpack[LayerOptions]
    ) -> L | Callable[[L], L]:
        """Add a layer to this flow: ``@MyFlow.register`` or ``@MyFlow.register(foreach=...)``;
        the keywords are the fields of ``LayerSettings``."""
        if cls is Flow:
            raise ConfigurationError(
                "Register layers on your own subclass: class MyFlow(Flow): ... then "
                "@MyFlow.register."
            )
        checked: LayerSettings = settings_of(LayerSettings, "register", settings)

        def decorate(layer_cls: L) -> L:
            if not (isinstance(layer_cls, type) and issubclass(layer_cls, Layer)):
                raise ConfigurationError(
                    f"@{cls.__name__}.register decorates Layer subclasses; "
                    f"{layer_cls!r} is not one. Write class {getattr(layer_cls, '__name__', 'X')}"
                    "(Layer): ..."
                )
            cls._registrations.append(Registration(layer_cls, checked))
            return layer_cls

        return decorate(layer) if layer is not None else decorate

    #: ``@MyFlow.layer`` is the same decorator as ``@MyFlow.register``.
    layer = register

    @classmethod
    def ir(cls) -> FlowIR:
        """The flow's validated graph of layer specs (see ``laminar.ir``)."""
        from laminar.ir import build_ir

        return build_ir(cls)

    @classmethod
    def results(
        cls, execution: str | Execution | None = None, datastore: str | None = None
    ) -> ExecutionResults:
        """Read an execution's artifacts: ``MyFlow.results(id)["Layer"].attribute``."""
        from laminar.runtime.results import open_results

        given = None if execution is None else str(execution)
        return open_results(cls, execution=given, datastore=datastore)

    def __new__(cls, name: str | None = None, **_: Any) -> Flow:
        # ``Flow("Name", ...)``, the original library's spelling, is a subclass named Name.
        if cls is Flow:
            if not isinstance(name, str) or not name:
                raise ConfigurationError(
                    "Flow() needs a name, as in Flow('MyFlow'), or subclass it: "
                    "class MyFlow(Flow): ..."
                )
            module = sys._getframe(1).f_globals.get("__name__", __name__)
            cls = type(name, (Flow,), {"__module__": module})
        return super().__new__(cls)

    def __init__(
        self,
        name: str | None = None,
        *,
        datastore: str | DatastoreConfig | None = None,
        executor: Executor | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        """``MyFlow(datastore=..., executor=..., scheduler=...)``: where this flow object runs
        and reads executions (a URL or ``datastores.Local/Memory/AWS.S3``; default
        ``$LAMINAR_DATASTORE``, else ``.laminar``) and how it runs locally
        (``laminar.configurations.executors`` and ``.schedulers``)."""
        from laminar.configurations.datastores import datastore_url
        from laminar.configurations.schedulers import Scheduler

        if scheduler is not None and not isinstance(scheduler, Scheduler):
            raise ConfigurationError(
                f"{type(self).__name__}(scheduler={scheduler!r}): pass a scheduler from "
                "laminar.configurations.schedulers, such as schedulers.Scheduler()."
            )
        self.datastore = datastore_url(datastore)
        self.executor = executor
        self.scheduler = scheduler

    def execution(self, id: str | Execution) -> Execution:
        """Reopen an execution of this flow: ``flow.execution(id).layer(A).foo``."""
        from laminar.runtime.handle import Execution

        return Execution(type(self), str(id), self.datastore)

    def __bool__(self) -> bool:
        module = sys.modules.get(type(self).__module__)
        return type(self).__module__ == "__main__" and module is not None and not LOADING.get()

    def __call__(
        self,
        *,
        execution: str | Execution | None = None,
        datastore: str | None = None,
        workers: int | None = None,
        **inputs: Any,
    ) -> Execution:
        """Run the whole flow on this machine with ``inputs``; returns the ``Execution``.

        Inputs are read by layers that take ``parameters: Parameters``. In a flow file run as
        a script (``python flow.py``), options not given here come from the command line, as
        for ``laminar run``, and a failing task exits with status 1 after printing the user's
        traceback. Called from Python, nothing is read from ``sys.argv`` and a failing task
        raises the user's own exception, with a note naming the task and the call that
        resumes the execution (``laminar.runtime.call``).
        """
        # The model sits below the runtime: the runtime is imported only when a flow runs.
        from laminar.runtime.call import run_flow

        return run_flow(
            self, execution=execution, datastore=datastore, workers=workers, inputs=inputs
        )
