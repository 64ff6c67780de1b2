"""``Catch``: let a layer fail with an expected exception without failing the run."""

from __future__ import annotations

from laminar.errors import ConfigurationError


class Catch:
    """``@MyFlow.register(catch=Catch(TypeError, IOError))``: a task that raises one of these
    exceptions (or a subclass) is recorded as not finished instead of failing the run.

    Downstream, ``upstream.state.finished`` is False for it, layers after it are skipped
    unless they have an entry hook, and a ForEach join leaves that task out. What the task set
    before raising is not stored: its state was incomplete.
    """

    __slots__ = ("exceptions",)
    exceptions: tuple[type[BaseException], ...]

    def __init__(self, *exceptions: type[BaseException]) -> None:
        for exception in exceptions:
            if not (isinstance(exception, type) and issubclass(exception, Exception)):
                raise ConfigurationError(
                    f"Catch({exception!r}): Catch takes exception classes, such as "
                    "Catch(TypeError, IOError)."
                )
        object.__setattr__(self, "exceptions", tuple(exceptions))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Catch is read-only")

    def __reduce__(self) -> tuple[type[Catch], tuple[type[BaseException], ...]]:
        # Pickled as its constructor call: a layer may store its settings as a value.
        return (Catch, self.exceptions)

    def catches(self, error: BaseException) -> bool:
        return isinstance(error, self.exceptions)

    def names(self) -> tuple[str, ...]:
        """The exceptions' names, for messages and ``laminar show``."""
        return tuple(e.__qualname__ for e in self.exceptions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Catch) and other.exceptions == self.exceptions

    def __hash__(self) -> int:
        return hash(self.exceptions)

    def __bool__(self) -> bool:
        return bool(self.exceptions)

    def __repr__(self) -> str:
        return f"Catch({', '.join(self.names())})"
