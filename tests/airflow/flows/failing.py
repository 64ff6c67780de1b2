"""A layer that always fails after an empty fan-out: the failure must fail the run."""

from laminar import Flow, ForEach, Layer, Parameter


class FailingFlow(Flow): ...


@FailingFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[])


@FailingFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]))
class Nothing(Layer):
    def __call__(self, shard: Shard) -> None:
        self.value = shard.foo


@FailingFlow.register
class Boom(Layer):
    def __call__(self, nothing: Nothing) -> None:
        raise ValueError("this layer always fails")


@FailingFlow.register
class After(Layer):
    def __call__(self, boom: Boom) -> None:
        self.reached = True
