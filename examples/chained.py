"""Chained ForEach: Second maps 1:1 onto First's tasks with Parameter(index=None)."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class ChainedFlow(Flow): ...


@ChainedFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2, 3])


@ChainedFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class First(Layer):
    def __call__(self, shard: Shard) -> None:
        print(self.index, "First", shard.foo)
        self.foo = shard.foo


@ChainedFlow.register(
    foreach=ForEach(parameters=[Parameter(layer=First, attribute="foo", index=None)])
)
class Second(Layer):
    def __call__(self, first: First) -> None:
        print(self.index, "Second", first.foo)


if flow := ChainedFlow():
    flow()
