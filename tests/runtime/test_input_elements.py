"""Input element types are checked (issue 27): ``list[float]``, ``dict[str, int]``, nested
and ``Literal`` elements, from Python and from an orchestrator's text, defaults too."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from laminar import Flow, Layer
from laminar.errors import ConfigurationError, FlowDefinitionError
from laminar.model.parameters import declared_inputs, resolve_inputs


class Typed(Flow):
    weights: list[float] = [1.0]
    counts: list[int] = []
    limits: dict[str, int] = {}
    grid: list[list[int]] = []
    modes: list[Literal["fast", "slow"]] = []
    names: list[str] = []
    anything: list = []  # type: ignore[type-arg]
    loose: dict[str, object] = {}
    free: list[Any] = []


def _resolve(**given: Any) -> dict[str, Any]:
    return resolve_inputs(declared_inputs(Typed), given)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"weights": [1.5, "heavy"]}, r"Input 'weights\[1\]' must be a number, not 'heavy'"),
        ({"weights": [True]}, r"Input 'weights\[0\]' must be a number, not True"),
        ({"counts": [1, 2.5]}, r"Input 'counts\[1\]' must be an integer, not 2.5"),
        ({"counts": ["3"]}, r"Input 'counts\[0\]' must be an integer, not '3'"),
        ({"limits": {"a": "x"}}, r"Input \"limits\['a'\]\" must be an integer, not 'x'"),
        ({"grid": [[1], [2, "3"]]}, r"Input 'grid\[1\]\[1\]' must be an integer"),
        ({"grid": [1]}, r"Input 'grid\[0\]' must be a list, not 1"),
        ({"modes": ["fast", "medium"]}, r"Input 'modes\[1\]' is \"medium\", which is not one of"),
        ({"names": ["a", 1]}, r"Input 'names\[1\]' must be a string, not 1"),
        ({"weights": '[1, "x"]'}, r"Input 'weights\[1\]' must be a number, not 'x'"),  # text
    ],
)
def test_elements_of_the_wrong_type_are_refused_naming_the_element(
    given: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _resolve(**given)


def test_elements_of_the_right_type_pass_and_convert_as_values_do() -> None:
    got = _resolve(
        weights=[1, 2.5],
        counts="[1, 2.0]",
        limits={"a": 1},
        grid=[[1, 2], []],
        modes=["slow"],
        names=["x"],
        anything=[1, "a", None],
        loose={"a": [1], "b": "x"},
        free=[{"k": None}, 2.5],
    )
    assert got["weights"] == [1, 2.5] and got["counts"] == [1, 2]
    assert got["limits"] == {"a": 1} and got["grid"] == [[1, 2], []]
    assert (got["modes"], got["names"], got["anything"]) == (["slow"], ["x"], [1, "a", None])
    assert (got["loose"], got["free"]) == ({"a": [1], "b": "x"}, [{"k": None}, 2.5])


def _only(flow: type[Flow]) -> None:
    flow.register(type("Only", (Layer,), {"__call__": lambda self: None}))


def test_a_default_with_wrong_elements_is_refused() -> None:
    class BadDefault(Flow):
        weights: list[float] = [1.0, "x"]  # type: ignore[list-item]

    _only(BadDefault)
    with pytest.raises(FlowDefinitionError, match=r"default of Input 'weights\[1\]'"):
        BadDefault.ir()


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (dict[int, str], r"keys of a JSON object are strings: annotate it dict\[str, \.\.\.\]"),
        (list[bytes], "inputs are str, int, float, bool, list, dict"),
        (tuple[int, ...], "inputs are str, int, float, bool, list, dict"),
    ],
)
def test_element_types_that_json_cannot_carry_are_refused(annotation: Any, message: str) -> None:
    flow = type("Odd", (Flow,), {"__annotations__": {"value": annotation}})
    _only(flow)
    with pytest.raises(FlowDefinitionError, match=message):
        flow.ir()


def test_a_run_refuses_wrong_elements_before_any_layer_runs() -> None:
    class Weighted(Flow):
        weights: list[float]

    ran: list[str] = []
    Weighted.register(type("Only", (Layer,), {"__call__": lambda self: ran.append("ran")}))
    with pytest.raises(ConfigurationError, match=r"Input 'weights\[0\]' must be a number"):
        Weighted(datastore="memory://elements")(weights=["a"])
    assert ran == []
