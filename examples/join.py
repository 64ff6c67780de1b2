"""ForEach join: Join reads Process.foo as an Accessor with one entry per task."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class JoinFlow(Flow): ...


@JoinFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2])


@JoinFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        self.foo = shard.foo


@JoinFlow.layer
class Join(Layer):
    def __call__(self, process: Process) -> None:
        print(list(process.foo))
        print(process.foo[1])


if flow := JoinFlow():
    flow()
