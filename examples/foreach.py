"""ForEach: one Process task per element of Shard.foo."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class ForeachFlow(Flow): ...


@ForeachFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2])


@ForeachFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        print(self.index, shard.foo)


if flow := ForeachFlow():
    flow()
