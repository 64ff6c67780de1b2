"""The ``laminar`` command. Nothing in laminar imports this package: it sits on top."""

from laminar.cli.main import main

__all__ = ["main"]
