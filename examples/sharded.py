"""Sharded artifacts: Process reads Shard.foo lazily through an Accessor."""

from laminar import Flow, Layer


class ShardedFlow(Flow): ...


@ShardedFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2, 3])


@ShardedFlow.register
class Process(Layer):
    def __call__(self, shard: Shard) -> None:
        print(list(shard.foo))
        print(shard.foo[1])
        print(shard.foo[1:])


if flow := ShardedFlow():
    flow()
