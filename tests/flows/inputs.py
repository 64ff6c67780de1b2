"""A flow with inputs of every type, read by a plain layer and by every task of a fan-out."""

from typing import Literal

from laminar import Flow, ForEach, Layer, Parameter, Parameters

#: A value that would do harm if any target pasted it into a command, an expression or YAML.
NASTY = 'it\'s "x" $(HOME) $$ {{workflow.name}} ${{ github.token }} {% raw %}\n`id` \u2028 end'
#: Inputs different from every default, as each target's tests pass them (text).
GIVEN = {
    "note": NASTY,
    "sample": "3",
    "ratio": "0.25",
    "full": "true",
    "mode": "full",
    "tags": '["x", "y"]',
}


class InputsFlow(Flow):
    note: str
    sample: int = 2
    ratio: float = 0.5
    full: bool = False
    mode: Literal["fast", "full"] = "fast"
    tags: list = ["a"]


@InputsFlow.register
class Source(Layer):
    def __call__(self, parameters: Parameters) -> None:
        names = ("note", "sample", "ratio", "full", "mode", "tags")
        self.seen = {name: getattr(parameters, name) for name in names}
        self.shard(items=list(range(parameters.sample)))


@InputsFlow.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]))
class Work(Layer):
    def __call__(self, source: Source, parameters: Parameters) -> None:
        self.out = f"{parameters.mode}:{source.items * parameters.ratio}"


@InputsFlow.register
class Report(Layer):
    def __call__(self, work: Work) -> None:
        self.outs = list(work.out)
