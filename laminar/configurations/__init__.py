"""Configuration objects accepted by ``Flow.register``."""

from laminar.configurations.layers import Container, ForEach, Parameter, Parameters, Retry

__all__ = ["Container", "ForEach", "Parameter", "Parameters", "Retry"]
