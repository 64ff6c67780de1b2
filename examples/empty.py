"""An empty fan-out: Process runs zero tasks, and Report still runs and sees an empty join."""

from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class EmptyFlow(Flow): ...


@EmptyFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[])


@EmptyFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        self.doubled = shard.foo * 2


@EmptyFlow.register
class Report(Layer):
    def __call__(self, process: Process) -> None:
        self.count = len(process.doubled)
        print("tasks:", self.count, list(process.doubled))


if flow := EmptyFlow():
    flow()
