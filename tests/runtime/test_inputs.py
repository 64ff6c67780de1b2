"""Flow inputs run locally: flow(...), python flow.py --param, laminar run -p, resume rules,
and every bad input a clear error naming the input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from conftest import laminar

from laminar import Flow, Layer, Parameters
from laminar.configurations.layers import Parameters as SeedParameters
from laminar.errors import ConfigurationError, ExecutionError, FlowDefinitionError

ORIGINAL = """
from laminar import Flow, Layer, Parameters


class ParameterFlow(Flow): ...


@ParameterFlow.register
class A(Layer):
    def __call__(self, parameters: Parameters) -> None:
        print(parameters.foo)
        self.foo = parameters.foo


if flow := ParameterFlow():
    flow(foo="bar")
"""

DECLARED = """
from typing import Literal

from laminar import Flow, Layer, Parameters


class Nightly(Flow):
    date: str
    sample: int = 100
    mode: Literal["fast", "full"] = "fast"
    tags: list = ["a"]


@Nightly.register
class Report(Layer):
    def __call__(self, parameters: Parameters) -> None:
        print(parameters.date, parameters.sample, parameters.mode, parameters.tags)


if flow := Nightly():
    flow()
"""


def test_the_original_librarys_parameter_flow_runs_as_written(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(ORIGINAL, "main.py")
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout == "bar\n"


def test_seed_import_of_parameters_is_the_built_in_layer() -> None:
    assert SeedParameters is Parameters
    assert issubclass(Parameters, Layer)


def test_flow_call_takes_inputs_and_results_hold_them(tmp_path: Path) -> None:
    class Inputs(Flow):
        sample: int = 3

    @Inputs.register
    class Double(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.value = parameters.sample * 2

    store = str(tmp_path / "store")
    execution = Inputs()(datastore=store, sample="21")  # text, as an orchestrator gives it
    assert Inputs.results(execution, store)["Double"].value == 42
    default = Inputs()(datastore=store)
    assert Inputs.results(default, store)["Double"].value == 6


def test_cli_and_script_take_params(write_flow: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write_flow(DECLARED, "nightly.py")
    (tmp_path / "tags.json").write_text(json.dumps(["x", "y"]))
    run = laminar(
        "run", str(path), "-q", "-p", "date=2026-11-25", "-p", "sample=5", "--param",
        "tags=@tags.json", cwd=tmp_path,
    )  # fmt: skip
    assert run.stdout == "2026-11-25 5 fast ['x', 'y']\n"
    script = subprocess.run(
        [sys.executable, str(path), "-q", "--param", "date=d", "-p", "mode=full"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert script.stdout == "d 100 full ['a']\n"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "Input 'date' is required: pass it, for example -p date=VALUE"),
        (["-p", "date=d", "-p", "sample=many"], "Input 'sample' must be an integer, not 'many'"),
        (["-p", "date=d", "-p", "mode=slow"], "Input 'mode' is \"slow\", which is not one of"),
        (["-p", "date=d", "-p", "colour=red"], "Unknown input 'colour': this flow's inputs are"),
        (["-p", "date"], "-p 'date' must be NAME=VALUE"),
        (["-p", "date=@missing.json"], "cannot read missing.json"),
        (["-p", "date=d", "-p", "tags=[1,"], "Input 'tags' must be a list"),
    ],
)
def test_bad_inputs_are_clear_errors(
    params: list[str], message: str, write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(DECLARED, "nightly.py")
    result = laminar("run", str(path), *params, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".laminar").exists()  # nothing half-started
    assert "running Nightly" not in result.stderr  # nor announced
    assert result.stderr.count("\n") == 1  # the error alone


def test_a_resumed_execution_keeps_its_inputs(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(DECLARED, "nightly.py")
    laminar("run", str(path), "-q", "--execution", "r1", "-p", "date=d1", cwd=tmp_path)
    again = laminar("run", str(path), "-q", "--execution", "r1", cwd=tmp_path)
    assert again.returncode == 0  # no -p: the committed inputs are reused
    changed = laminar(
        "run", str(path), "-q", "--execution", "r1", "-p", "date=d2", cwd=tmp_path, check=False
    )
    assert changed.returncode == 2
    assert 'started with input date="d1", not "d2"' in changed.stderr
    same = laminar("run", str(path), "-q", "--execution", "r1", "-p", "date=d1", cwd=tmp_path)
    assert same.returncode == 0


def test_declaration_errors_name_the_input() -> None:
    class Bad(Flow):
        when: object

    @Bad.register
    class Only(Layer):
        def __call__(self) -> None:
            pass

    with pytest.raises(FlowDefinitionError, match="input 'when' is annotated"):
        Bad.ir()

    class Reserved(Flow):
        workers: int = 2

    Reserved.register(Only)
    with pytest.raises(FlowDefinitionError, match="input named 'workers'"):
        Reserved.ir()

    class WrongDefault(Flow):
        sample: int = "many"  # type: ignore[assignment]

    WrongDefault.register(Only)
    with pytest.raises(FlowDefinitionError, match="default of Input 'sample'"):
        WrongDefault.ir()


def test_values_must_be_json(tmp_path: Path) -> None:
    class Free(Flow): ...

    @Free.register
    class Only(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.seen = parameters.anything

    with pytest.raises(
        ConfigurationError, match=r"Input 'anything' is set \{1, 2\}, which is not a JSON value"
    ):
        Free()(datastore=str(tmp_path), anything={1, 2})
    # A flow that declares nothing takes any JSON value, locally.
    execution = Free()(datastore=str(tmp_path), anything={"a": [1, 2.5, None]})
    assert Free.results(execution, str(tmp_path))["Only"].seen == {"a": [1, 2.5, None]}


def test_reading_an_unknown_input_says_which_exist(tmp_path: Path) -> None:
    class Typo(Flow):
        sample: int = 1

    @Typo.register
    class Only(Layer):
        def __call__(self, parameters: Parameters) -> None:
            self.seen = parameters.sampel

    with pytest.raises(Exception, match=r"no input named 'sampel' \(its inputs: sample\)"):
        Typo()(datastore=str(tmp_path))


def test_a_layer_cannot_take_the_built_in_name() -> None:
    class Clash(Flow): ...

    Clash.register(type("Parameters", (Layer,), {"__call__": lambda self: None}))
    with pytest.raises(FlowDefinitionError, match="built-in layer that holds the flow's inputs"):
        Clash.ir()


def test_choices_and_types_convert_from_text() -> None:
    from laminar.model.parameters import declared_inputs, resolve_inputs

    class Typed(Flow):
        n: int = 1
        x: float = 0.5
        on: bool = False
        mode: Literal["a", "b"] = "a"
        config: dict = {}

    got = resolve_inputs(
        declared_inputs(Typed),
        {"n": "7", "x": "2", "on": "true", "mode": "b", "config": '{"k": [1]}'},
    )
    assert got == {"n": 7, "x": 2, "on": True, "mode": "b", "config": {"k": [1]}}
    with pytest.raises(ExecutionError.__mro__[1], match="Input 'on' must be true or false"):
        resolve_inputs(declared_inputs(Typed), {"on": "maybe"})


def test_graph_and_show_name_the_inputs(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_flow(DECLARED, "nightly.py")
    text = laminar("graph", str(path), cwd=tmp_path).stdout
    assert '  Parameters (date, sample=100, mode="fast", tags=["a"])' in text
    assert "  Report  <- Parameters" in text
    mermaid = laminar("graph", str(path), "--format", "mermaid", cwd=tmp_path).stdout
    assert "    p -.-> n0" in mermaid
    graph = json.loads(laminar("graph", str(path), "--format", "json", cwd=tmp_path).stdout)
    assert [i["name"] for i in graph["inputs"]] == ["date", "sample", "mode", "tags"]
    assert graph["inputs"][2]["choices"] == ["fast", "full"]
    assert graph["layers"][0]["reads_inputs"] is True
    laminar("run", str(path), "-q", "--execution", "r1", "-p", "date=d1", cwd=tmp_path)
    shown = laminar("show", str(path), "--execution", "r1", cwd=tmp_path).stdout
    assert "  inputs: date='d1', mode='fast', sample=100, tags=['a']" in shown
    listed = laminar("show", str(path), cwd=tmp_path).stdout  # each execution with its inputs
    assert re.fullmatch(
        r"r1  succeeded  started \S+ \S+ UTC  took \S+s  "
        r"inputs: date='d1', mode='fast', sample=100, tags=\['a'\]\n",
        listed,
    )
