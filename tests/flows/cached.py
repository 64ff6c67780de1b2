"""A flow with cached layers, for the engine tests of caching across executions (issue 23):
two runs in one datastore, the second served from the cache, and a third run with the
target's switch (``laminar_no_cache``) that runs everything. It declares an input, so the
switch travels beside the inputs (Airflow's params, GitHub's ``toJSON(inputs)``) and the shim
must drop it from them."""

from laminar import Flow, ForEach, Layer, Parameter, Parameters


class CachedFlow(Flow):
    label: str = "x"


@CachedFlow.register
class Items(Layer):
    def __call__(self) -> None:
        self.shard(item=["a", "b", "c"])


@CachedFlow.register(
    cache=True, foreach=ForEach(parameters=[Parameter(layer=Items, attribute="item")])
)
class Each(Layer):
    def __call__(self, items: Items) -> None:
        self.out = items.item.upper()


@CachedFlow.register(cache=True)
class Join(Layer):
    def __call__(self, each: Each, parameters: Parameters) -> None:
        self.total = "".join(each.out) + parameters.label


#: What ``laminar show`` says of an execution served wholly from ``{first}``.
SERVED = ("Each [3 tasks; 3 of 3 tasks cached from execution {first}]",
          "Join [cached from execution {first}]")  # fmt: skip
EXPECTED = {"Items": {"item": ["a", "b", "c"]}, "Each": {"out": ["A", "B", "C"]},
            "Join": {"total": "ABCx"}}  # fmt: skip
