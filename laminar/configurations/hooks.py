"""Hooks: methods that run around a layer, marked with a decorator.

``from laminar.configurations import hooks``, then in a layer (or in the flow, for every layer):

* ``@hooks.entry``: returns a bool when the layer is about to run; False skips the layer (or,
  in a ForEach layer, that task). Layers after a skipped one are skipped too, unless they have
  an entry hook of their own, which then decides.
* ``@hooks.execution``: runs around ``__call__`` in each task: a generator's code before
  ``yield`` runs before, after it runs after; a plain function runs before.
* ``@hooks.exit`` (on the flow only): runs once per run, after every layer has ended or the
  run has failed, with the run's ``Execution`` (``succeeded``, ``failures``, results).

* ``@hooks.submission``: runs before a task's first attempt and may set
  ``self.configuration.container.cpu``, ``.memory`` or ``.gpu`` for that task (per task of a
  ForEach, from its upstream layers if it takes them: whole, as where the original library
  submitted tasks, so ``a.baz[self.index]`` is this task's element).
* ``@hooks.retry``: runs before each retry and may change them again (``memory * 2``).
  What these two decide is what ``__call__`` sees and what the task's log records; where a
  target cannot apply it to the task's pod, compiling says so (``laminar.runtime.resources``).

Like ``__call__``, a hook may take upstream layers as annotated arguments; they become
dependencies of the layer. Several hooks of one kind run in definition order, the flow's
first.
"""

from __future__ import annotations

from typing import Any, TypeVar

F = TypeVar("F")

ENTRY = "entry"
EXECUTION = "execution"
EXIT = "exit"
RETRY = "retry"
SUBMISSION = "submission"
KINDS = (ENTRY, EXECUTION, EXIT, RETRY, SUBMISSION)

#: The attribute a decorator sets on the function.
MARK = "__laminar_hook__"


def _mark(function: F, kind: str) -> F:
    target = function.__func__ if isinstance(function, (classmethod, staticmethod)) else function
    try:
        setattr(target, MARK, kind)
    except AttributeError:
        from laminar.errors import ConfigurationError

        raise ConfigurationError(
            f"@hooks.{kind} decorates a method (def name(self, ...)); got {function!r}."
        ) from None
    return function


def entry(function: F) -> F:
    """Mark an entry hook: ``def ready(self, a: A) -> bool``; False skips the layer."""
    return _mark(function, ENTRY)


def execution(function: F) -> F:
    """Mark an execution hook: a generator around ``__call__`` (or a function run before)."""
    return _mark(function, EXECUTION)


def exit(function: F) -> F:
    """Mark a flow's exit hook: ``def notify(self, execution)``, run once per run after every
    layer has ended or the run has failed; ``execution.succeeded``, ``execution.failures``."""
    return _mark(function, EXIT)


def retry(function: F) -> F:
    """Mark a retry hook: ``def grow(self) -> None``, run before each retry of a task; it may
    change ``self.configuration.container`` cpu, memory or gpu for the next attempt."""
    return _mark(function, RETRY)


def submission(function: F) -> F:
    """Mark a submission hook: ``def size(self, a: A) -> None``, run before a task's first
    attempt; it may set ``self.configuration.container`` cpu, memory or gpu for that task."""
    return _mark(function, SUBMISSION)


def kind_of(value: Any) -> str | None:
    """The hook kind ``value`` was marked with, or None."""
    kind = getattr(value, MARK, None)
    return kind if isinstance(kind, str) and kind in KINDS else None


def hooks_of(cls: type) -> list[tuple[str, str, Any]]:
    """``(kind, name, function)`` of the hooks defined on ``cls`` and its bases, in
    definition order (base classes first; an override keeps its base's place)."""
    found: dict[str, tuple[str, Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            kind = kind_of(value)
            if kind is not None:
                found[name] = (kind, value)
            elif name in found:
                del found[name]  # overridden by a method that is not a hook
    return [(kind, name, value) for name, (kind, value) in found.items()]
