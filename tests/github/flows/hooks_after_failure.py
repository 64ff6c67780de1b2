"""An entry hook two layers after a failure must not run; one after a skip must.

``Hooked``'s planning job runs even when a job it waits for was skipped (its hook decides),
so its ``if:`` also says ``!failure()``: ``Middle`` is skipped because ``Broken`` failed, and
that failure (an ancestor's, not a direct need's) stops ``Hooked`` too. ``AfterSide`` follows
``Side``, skipped by its hook, with no failure above it: it runs.
"""

from laminar import Flow, Layer
from laminar.configurations import hooks


class HooksAfterFailure(Flow): ...


@HooksAfterFailure.register
class Start(Layer):
    def __call__(self) -> None:
        self.n = 1


@HooksAfterFailure.register
class Broken(Layer):
    def __call__(self, start: Start) -> None:
        raise RuntimeError("Broken fails on purpose")


@HooksAfterFailure.register
class Middle(Layer):
    def __call__(self, broken: Broken) -> None:
        self.n = 2


@HooksAfterFailure.register
class Hooked(Layer):
    def __call__(self, middle: Middle) -> None:
        self.n = 3

    @hooks.entry
    def always(self) -> bool:
        return True


@HooksAfterFailure.register
class Side(Layer):
    def __call__(self, start: Start) -> None:
        self.n = 4

    @hooks.entry
    def never(self) -> bool:
        return False


@HooksAfterFailure.register
class AfterSide(Layer):
    def __call__(self, side: Side) -> None:
        self.n = 5 if side.state.finished else 6

    @hooks.entry
    def always(self) -> bool:
        return True
