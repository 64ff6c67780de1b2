"""Downstream views read what was stored; the static attribute check never rejects a valid flow."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from laminar import Flow, ForEach, Layer, Parameter
from laminar.errors import FlowDefinitionError, LaminarWarning


def test_a_stored_value_wins_over_a_class_default_or_method(tmp_path: Path) -> None:
    class Shadow(Flow): ...

    @Shadow.register
    class Model(Layer):
        threshold = 0.5  # a class default the layer overrides when it runs

        def score(self) -> float:
            return -1.0

        def __call__(self) -> None:
            self.threshold = 0.9
            self.score = 7  # type: ignore[assignment, method-assign]
            self.shard = [1, 2]  # type: ignore[assignment, method-assign]

        def helper(self) -> str:
            return "method"

    @Shadow.register
    class Use(Layer):
        def __call__(self, model: Model) -> None:
            self.seen = (model.threshold, model.score, model.shard, model.helper())

    execution = Shadow()(datastore=str(tmp_path))
    # Stored attributes win; a method the layer did not store is still callable.
    assert Shadow.results(execution, str(tmp_path))["Use"].seen == (0.9, 7, [1, 2], "method")


def test_joins_read_stored_values_over_class_attributes(tmp_path: Path) -> None:
    class JoinShadow(Flow): ...

    @JoinShadow.register
    class Items(Layer):
        def __call__(self) -> None:
            self.shard(n=[1, 2, 3])

    @JoinShadow.register(foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]))
    class Square(Layer):
        value = 0

        def __call__(self, items: Items) -> None:
            self.value = items.n * items.n

    @JoinShadow.register
    class Total(Layer):
        def __call__(self, square: Square) -> None:
            self.total = sum(square.value)

    execution = JoinShadow()(datastore=str(tmp_path))
    assert JoinShadow.results(execution, str(tmp_path))["Total"].total == 14


class SetsItems:
    """A mixin that is not a Layer: its method sets the attribute."""

    def fill(self) -> None:
        self.items = [1, 2]


def set_items(layer: Any) -> None:
    layer.items = [3]


def make_flow(source: type[Layer]) -> type[Flow]:
    flow: type[Flow] = type("MixinFlow", (Flow,), {})
    flow.register(source)

    @flow.register(foreach=ForEach(parameters=[Parameter(layer=source, attribute="items")]))
    class Use(Layer):
        def __call__(self, upstream: Layer) -> None:
            self.got = upstream.items

    Use.__call__.__annotations__["upstream"] = source  # the class itself, not its name
    return flow


def test_an_attribute_set_by_a_mixin_is_accepted_with_a_warning(tmp_path: Path) -> None:
    class Source(SetsItems, Layer):
        def __call__(self) -> None:
            self.fill()

    flow = make_flow(Source)
    with pytest.warns(LaminarWarning, match="does not visibly set self.items"):
        flow.ir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LaminarWarning)
        execution = flow()(datastore=str(tmp_path))
        assert list(flow.results(execution, str(tmp_path))["Use"].got) == [[1, 2]]


def test_an_attribute_set_by_a_helper_function_is_accepted_with_a_warning() -> None:
    class Source(Layer):
        def __call__(self) -> None:
            set_items(self)

    with pytest.warns(LaminarWarning, match="does not visibly set self.items"):
        make_flow(Source).ir()


def test_a_sure_typo_is_still_an_error() -> None:
    class Source(Layer):
        def __call__(self) -> None:
            self.itemz = [1]

    with pytest.raises(FlowDefinitionError, match=r"never sets self.items \(it sets: itemz\)"):
        make_flow(Source).ir()


def test_results_return_attributes_named_like_their_methods(tmp_path: Path) -> None:
    class Reserved(Flow): ...

    @Reserved.register
    class Meta(Layer):
        def __call__(self) -> None:
            self.name = "stored name"
            self.tasks = ["t1"]
            self.attributes = {"a": 1}

    execution = Reserved()(datastore=str(tmp_path))
    layer = Reserved.results(execution, str(tmp_path))["Meta"]
    assert (layer.name, layer.tasks, layer.attributes) == ("stored name", ["t1"], {"a": 1})
    assert type(layer).attributes(layer) == ["attributes", "name", "tasks"]
