"""A chain of three layers after an empty fan-out, with a fan-out inside the chain.

GitHub skips a job with the implicit ``success()`` when ANY job up its ``needs`` chain was
skipped, not only a direct need (actions/runner#2205, which act reproduces): ``Empty``'s
matrix job is skipped for having no legs, so without the explicit ``if:`` every compiled job
states, ``Second`` and ``Third`` would be skipped silently.
"""

from laminar import Flow, ForEach, Layer, Parameter


class SkipsFlow(Flow): ...


@SkipsFlow.register
class Nothing(Layer):
    def __call__(self) -> None:
        self.shard(x=[])


@SkipsFlow.register(foreach=ForEach(parameters=[Parameter(layer=Nothing, attribute="x")]))
class Empty(Layer):
    def __call__(self, nothing: Nothing) -> None:
        self.y = nothing.x


@SkipsFlow.register
class First(Layer):
    def __call__(self, empty: Empty) -> None:
        self.count = len(list(empty.y))
        self.shard(n=[1, 2, 3])


@SkipsFlow.register(foreach=ForEach(parameters=[Parameter(layer=First, attribute="n")]))
class Second(Layer):
    def __call__(self, first: First) -> None:
        self.square = first.n * first.n


@SkipsFlow.register
class Third(Layer):
    def __call__(self, second: Second, first: First) -> None:
        self.total = sum(second.square)
        self.count = first.count
