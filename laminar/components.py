"""The original laminar library's import path for the building blocks:
``from laminar.components import Parameters``."""

from laminar.model.flow import Flow
from laminar.model.layer import Layer
from laminar.model.parameters import Parameters

__all__ = ["Flow", "Layer", "Parameters"]
