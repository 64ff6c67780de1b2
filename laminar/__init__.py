"""laminar: write a workflow once as Python classes, run it locally, compile it anywhere.

What a flow file and its tests need is here: ``from laminar import Flow, Layer, datastores``
(``laminar.configurations.datastores``, ``executors`` and ``hooks``, the original library's
spellings, work too).
"""

from laminar.configurations import datastores, executors, hooks
from laminar.configurations.layers import (
    Cache,
    Catch,
    Container,
    ForEach,
    Parameter,
    Parameters,
    Retry,
)
from laminar.configurations.schedule import LogicalDate, Schedule
from laminar.model.flow import Flow
from laminar.model.layer import Layer

__version__ = "0.1.0"

__all__ = [
    "Cache",
    "Catch",
    "Container",
    "Flow",
    "ForEach",
    "Layer",
    "LogicalDate",
    "Parameter",
    "Parameters",
    "Retry",
    "Schedule",
    "__version__",
    "datastores",
    "executors",
    "hooks",
]
