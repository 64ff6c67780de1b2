"""Grid search: one task per combination of Shard.foo and Shard.bar, foo varying fastest."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class GridFlow(Flow): ...


@GridFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2, 3], bar=["a", "b"])


@GridFlow.register(
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


if flow := GridFlow():
    flow()
