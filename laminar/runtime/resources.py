"""Resources a layer's ``@hooks.submission`` and ``@hooks.retry`` hooks decide, as in the
original laminar library: a submission hook sets ``self.configuration.container.memory`` (or
``cpu``, ``gpu``) before the task's first attempt, from its upstream layers if it takes them; a
retry hook changes them before each retry (``memory * 2``, the classic out-of-memory
recovery).

The hooks run in the task itself, on every target, so what they decide is what ``__call__``
sees in ``self.configuration`` and what the task's log records. Where an orchestrator retries
the task by starting it again (Airflow, Argo), attempt N replays the retry hooks N - 1 times,
so the values grow per attempt as in a local run. Where the target sizes pods (Argo, Airflow's
Kubernetes operator) the layer's plan runs them ahead for every task and try
(``laminar.runtime.sizing``); elsewhere the compiler warns (``backends/dialect.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from laminar.configurations.layers import Container
from laminar.configurations.settings import LayerSettings
from laminar.errors import ConfigurationError

#: The ``Container`` fields a hook may set: the resources one task asks for. The others (the
#: image, the environment, secrets, placement) are the layer's, fixed in the generated file.
ADJUSTABLE = ("cpu", "memory", "gpu")


class AdjustableContainer(Container):
    """``self.configuration.container`` in a task whose layer has submission or retry hooks:
    the layer's ``Container``, whose ``cpu``, ``memory`` and ``gpu`` a hook may set, each value
    checked as ``Container(...)`` checks it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in ADJUSTABLE:
            raise ConfigurationError(
                f"A hook set self.configuration.container.{name}; hooks may set "
                f"{', '.join(ADJUSTABLE)} (what one task asks for). The layer's {name} is "
                f"fixed where it is declared: @Flow.register(container=Container({name}=...))."
            )
        fields = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        checked = Container(**{**fields, name: value})  # a bad value: Container's own message
        object.__setattr__(self, name, getattr(checked, name))


def adjustable(settings: LayerSettings) -> LayerSettings:
    """A copy of ``settings`` whose container the task's hooks may change (the layer's own
    settings stay as declared, for its other tasks)."""
    declared = settings.container or Container()
    fields = {field.name: getattr(declared, field.name) for field in dataclasses.fields(declared)}
    return dataclasses.replace(settings, container=AdjustableContainer(**fields))


def described(settings: LayerSettings) -> str:
    """``cpu=4 memory=2000``: the resources in ``settings``, for the task's log."""
    container = settings.container
    shown = [f"{name}={getattr(container, name)}" for name in ADJUSTABLE]
    return " ".join(s for s in shown if not s.endswith("=None")) or "none set"
