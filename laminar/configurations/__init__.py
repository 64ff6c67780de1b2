"""Configuration objects accepted by ``Flow.register``, and hooks."""

from laminar.configurations import hooks
from laminar.configurations.catch import Catch
from laminar.configurations.layers import Container, ForEach, Parameter, Parameters, Retry

__all__ = ["Catch", "Container", "ForEach", "Parameter", "Parameters", "Retry", "hooks"]
