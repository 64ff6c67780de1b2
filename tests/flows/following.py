"""Fan-outs that follow another's legs (issue 24): Second maps 1:1 onto First, Third onto
Second, so neither is planned by a step of its own; their legs are First's. ``Nothing`` is the
same chain over an empty shard: nothing to follow, yet every layer is planned and recorded."""

from laminar import Flow, ForEach, Layer, Parameter


class Following(Flow): ...


@Following.register
class Source(Layer):
    def __call__(self) -> None:
        self.shard(item=[1, 2, 3, 4, 5])


@Following.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="item")]))
class First(Layer):
    def __call__(self, source: Source) -> None:
        self.value = source.item * 10


@Following.register(
    foreach=ForEach(parameters=[Parameter(layer=First, attribute="value", index=None)])
)
class Second(Layer):
    def __call__(self, first: First) -> None:
        self.value = first.value + self.index


@Following.register(
    foreach=ForEach(parameters=[Parameter(layer=Second, attribute="value", index=None)])
)
class Third(Layer):
    def __call__(self, second: Second) -> None:
        self.value = second.value * 2


@Following.register
class Join(Layer):
    def __call__(self, third: Third) -> None:
        self.values = sorted(third.value)


class Nothing(Flow): ...


@Nothing.register
class Empty(Layer):
    def __call__(self) -> None:
        self.shard(item=[])


@Nothing.register(foreach=ForEach(parameters=[Parameter(layer=Empty, attribute="item")]))
class Leader(Layer):
    def __call__(self, empty: Empty) -> None:
        self.value = empty.item


@Nothing.register(
    foreach=ForEach(parameters=[Parameter(layer=Leader, attribute="value", index=None)])
)
class Follower(Layer):
    def __call__(self, leader: Leader) -> None:
        self.value = leader.value


@Nothing.register
class Count(Layer):
    def __call__(self, follower: Follower) -> None:
        self.count = len(list(follower.value))
