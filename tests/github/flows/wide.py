"""A fan-out wider than GitHub's matrix: 300 tasks batched into at most 256 legs, then a join."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class WideFlow(Flow): ...


@WideFlow.register
class Numbers(Layer):
    def __call__(self) -> None:
        self.shard(n=list(range(300)))


@WideFlow.register(foreach=ForEach(parameters=[Parameter(layer=Numbers, attribute="n")]))
class Square(Layer):
    def __call__(self, numbers: Numbers) -> None:
        self.square = numbers.n * numbers.n


@WideFlow.register
class Total(Layer):
    def __call__(self, square: Square) -> None:
        self.total = sum(square.square)
        self.count = len(square.square)
