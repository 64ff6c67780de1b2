"""ForEach with an unsharded parameter: Shard.bar is passed whole to every task."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class ForeachFlow(Flow): ...


@ForeachFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.bar = "a"
        self.shard(foo=[1, 2])


@ForeachFlow.register(
    foreach=ForEach(
        parameters=[
            Parameter(layer=Shard, attribute="foo"),
            Parameter(layer=Shard, attribute="bar"),
        ]
    )
)
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        print(self.index, shard.foo, shard.bar)


if flow := ForeachFlow():
    flow()
