"""A fan-out of 21 tasks, run on an Airflow whose max_map_length is lower than that."""

from laminar import Flow, ForEach, Layer, Parameter


class WideFlow(Flow): ...


@WideFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(n=list(range(21)))


@WideFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="n")]))
class Square(Layer):
    def __call__(self, shard: Shard) -> None:
        self.square = shard.n * shard.n


@WideFlow.register
class Total(Layer):
    def __call__(self, square: Square) -> None:
        self.squares = list(square.square)
        self.total = sum(self.squares)
