"""Errors a user can act on.

Every error laminar raises on purpose is a ``LaminarError``: the CLI prints its message
without a traceback from laminar's internals, because the message already names the layer,
the attribute and the fix.
"""

from __future__ import annotations


class LaminarError(Exception):
    """A problem in the user's flow, command line or datastore, with a message that says the fix."""


class FlowDefinitionError(LaminarError):
    """The flow's classes do not describe a valid graph (cycles, unknown layers, bad parameters)."""


class ConfigurationError(LaminarError):
    """A ``ForEach``, ``Parameter``, ``Retry`` or ``Container`` value is invalid."""


class FlowLoadError(LaminarError):
    """A flow file could not be found, imported, or has no (or several) ``Flow`` subclasses."""


class ArtifactError(LaminarError):
    """A layer read an attribute that its upstream layer never set, or a value cannot be stored."""


class CompileError(LaminarError):
    """A flow cannot be expressed within a target's limits or with the given options."""


class ExecutionError(LaminarError):
    """An execution id or a task is unknown, or a task failed."""


class LaminarWarning(UserWarning):
    """Something laminar could not check for sure; it is checked again when the flow runs."""


class CompileWarning(LaminarWarning):
    """A setting the target cannot honour as declared: the file is written, and the warning
    names the layer, the setting and what to do instead (``laminar compile --strict``
    makes it an error)."""


class NotFinishedError(AttributeError):
    """A layer read an attribute of an upstream layer that did not finish: it was skipped
    (an entry hook returned False, or a layer before it was skipped) or its failure was caught.

    An ``AttributeError``, so ``hasattr(b, "foo")`` is False and ``getattr(b, "foo", None)``
    works, and not a ``LaminarError``: it is raised on the user's own line, where the fix is.
    """
