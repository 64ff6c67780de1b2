"""The Airflow backend's output, read back as Python: ids, escaping, options, determinism.

Each test parses the generated file with ``ast`` and evaluates the literals it holds, so the
assertions are about what Airflow would receive. Running the DAGs is test_airflow_engine.py.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, ROOT, laminar

from laminar import Container, Flow, ForEach, Layer, Parameter, Retry
from laminar.backends import generate
from laminar.errors import CompileError
from laminar.model.loader import load_flow

AIRFLOW_ID = re.compile(r"^[\w.-]{1,250}$", re.ASCII)
NASTY = 'it\'s "quoted"\nnew line \\ back {{ run_id }} {% raw %} $HOME \u2028 end'
#: A datastore URL is refused with control characters in it: the same text on one line.
NASTY_URL = NASTY.replace("\n", " ").replace("\u2028", " ")


def render(flow: type[Flow], **extra: Any) -> str:
    return generate(
        "airflow",
        flow.ir(),
        flow_ref=extra.pop("flow_ref", f"flows/{flow.__name__}.py:{flow.__name__}"),
        datastore=extra.pop("datastore", "s3://bucket/runs"),
        image=extra.pop("image", None),
        command=extra.pop("command", "laminar compile flow.py --target airflow"),
        **{k: tuple(v) if isinstance(v, list) else v for k, v in extra.items()},
    )


def dag_call(text: str) -> dict[str, Any]:
    """The keyword arguments of ``DAG(...)``, evaluated (only literals and a datetime)."""
    tree = ast.parse(text)
    (with_,) = [n for n in tree.body if isinstance(n, ast.With)]
    call = with_.items[0].context_expr
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "DAG"
    out: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg == "start_date":
            out[keyword.arg] = ast.unparse(keyword.value)
        else:
            out[str(keyword.arg)] = ast.literal_eval(keyword.value)
    return out


def constant(text: str, name: str) -> Any:
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not assigned")


def task_calls(text: str) -> dict[str, dict[str, str]]:
    """task_id -> the other keyword arguments of its override(...)/operator call, as source."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call):
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            if "task_id" in keywords:
                task_id = ast.literal_eval(keywords.pop("task_id"))
                found[task_id] = {k: ast.unparse(v) for k, v in keywords.items()}
    return found


class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2])


def make_flow(name: str, layer_names: list[str]) -> type[Flow]:
    """A chain of layers with arbitrary (identifier) names, each a ForEach over the first."""
    flow: type[Flow] = type(name, (Flow,), {})
    first = type(layer_names[0], (Shard,), {})
    flow.register(first)
    for layer_name in layer_names[1:]:

        def call(self: Layer, shard: Any) -> None:
            pass

        call.__annotations__ = {"shard": first, "return": None}
        cls = type(layer_name, (Layer,), {"__call__": call})
        flow.register(foreach=ForEach(parameters=[Parameter(layer=first, attribute="foo")]))(cls)
    return flow


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_examples_compile_to_valid_python(path: Path) -> None:
    for operator in ("python", "kubernetes"):
        text = render(load_flow(str(path)), operator=operator, image="img:1")
        compile(text, str(path), "exec")
        assert all(AIRFLOW_ID.match(t) for t in task_calls(text))


def test_ids_are_legal_unique_and_stable() -> None:
    long_a, long_b = "L" * 300 + "a", "L" * 300 + "b"
    names = ["Source", "Ünïcode", "x_plan", long_a, long_b]
    text = render(make_flow("Weird", names))
    ids = list(task_calls(text))
    assert all(AIRFLOW_ID.match(i) for i in ids), ids
    # Source's task plans the first fan-out after it (issue 24); each other has a plan task.
    assert len(ids) == len(set(ids)) == 1 + 2 * (len(names) - 1) - 1
    assert "Source" in ids and "x_plan-plan" in ids and "Ünïcode-plan" not in ids
    assert render(make_flow("Weird", names)) == text


def test_the_generated_file_imports_only_airflow_and_the_standard_library() -> None:
    """At parse time (module level) only Airflow and the standard library; a task imports
    laminar's in-process shim when it runs, inside its own callable."""
    flow = load_flow(str(EXAMPLES / "grid.py"))
    for operator, extra in (("python", set()), ("kubernetes", {"kubernetes"})):
        tree = ast.parse(render(flow, operator=operator, image="img:1"))
        parsed, lazy = set(), set()
        for node in ast.walk(tree):
            inside = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
            in_function = any(node in ast.walk(function) for function in inside)
            names: set[str] = set()
            if isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {str(node.module)}
            (lazy if in_function else parsed).update(names)
        allowed = {"__future__", "airflow", *extra} | set(sys.stdlib_module_names)
        assert {name.split(".")[0] for name in parsed} <= allowed
        assert {name for name in lazy if name.startswith("laminar")} <= {"laminar.cli.inprocess"}
        assert {name.split(".")[0] for name in lazy} <= allowed | {"laminar"}


def test_user_strings_survive_as_python_literals() -> None:
    flow = load_flow(str(EXAMPLES / "grid.py"))
    text = render(
        flow,
        dag_id="grid.nightly-1",
        schedule="@daily",  # checked as a cron: a hostile one is refused (test_schedule.py)
        owner=NASTY,
        pool=NASTY,
        tag=[NASTY, "plain"],
        flow_cwd=NASTY,
        datastore=NASTY_URL,
        flow_ref=f"{NASTY}.py:GridFlow",
        command="laminar compile 'a\nb' --owner \"x\"\r# not a comment",
    )
    dag = dag_call(text)
    assert dag["dag_id"] == "grid.nightly-1"
    assert dag["schedule"] == "@daily"
    assert dag["tags"] == ["laminar", NASTY, "plain"]
    assert dag["default_args"] == {"trigger_rule": "none_failed", "owner": NASTY, "pool": NASTY}
    assert constant(text, "FLOW_CWD") == NASTY
    assert constant(text, "DATASTORE") == NASTY_URL
    assert constant(text, "COMMANDS")["Shard"] == [
        "task",
        f"{NASTY}.py:GridFlow",
        "--layer=Shard",
        "--format",
        "list",
        "--then-plan=Process",  # Shard's task plans Process (issue 24)
        "--plan-output=$LAMINAR_OUTPUT",
    ]
    # The header stays comments: the regenerate command cannot add a statement.
    header = [line for line in text.splitlines() if "Regenerate with" in line]
    assert len(header) == 1 and header[0].startswith("# ")


def test_kubernetes_wraps_user_strings_in_literal() -> None:
    class EnvFlow(Flow): ...

    @EnvFlow.register(container=Container(cpu="500m", memory="1Gi", env={"MODE": NASTY}))
    class Only(Layer):
        def __call__(self) -> None:
            pass

    image = "registry/{{run_id}}/x:1"
    text = render(EnvFlow, operator="kubernetes", image=image, datastore=NASTY_URL)
    call = task_calls(text)["Only"]
    for key in ("image", "cmds"):
        assert call[key].startswith("literal(")
    literal_args = [
        ast.literal_eval(n.args[0])
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Call)
        and ast.unparse(n.func) == "literal"
        and n.args
        and not isinstance(n.args[0], ast.Name)
    ]
    # The env value and the image; Kubernetes turns the doubled $ back into one.
    assert NASTY.replace("$", "$$") in literal_args and image in literal_args
    assert "'MODE': literal(" in call["env_vars"]
    assert call["container_resources"] == (
        "k8s.V1ResourceRequirements(requests={'cpu': '500m', 'memory': '1Gi'}, "
        "limits={'cpu': '500m', 'memory': '1Gi'})"
    )
    assert constant(text, "DATASTORE") == NASTY_URL


def test_retry_becomes_retries_delay_and_backoff() -> None:
    class RetryFlow(Flow): ...

    RetryFlow.register(Shard)

    @RetryFlow.register(
        foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]),
        retry=Retry(attempts=4, delay=2.5, backoff=3),
    )
    class Work(Layer):
        def __call__(self, shard: Shard) -> None:
            pass

    @RetryFlow.register(retry=Retry(attempts=2, delay=0))
    class Fixed(Layer):
        def __call__(self, work: Work) -> None:
            pass

    for operator in ("python", "kubernetes"):
        calls = task_calls(render(RetryFlow, operator=operator, image="i"))
        assert "Work-plan" not in calls  # Shard's task plans Work
        assert calls["Work"]["retries"] == "3"
        assert calls["Work"]["retry_delay"] == "datetime.timedelta(seconds=2.5)"
        assert calls["Work"]["retry_exponential_backoff"] == "True if AIRFLOW_2 else 3.0"
        assert calls["Fixed"]["retries"] == "1"
        assert "retry_exponential_backoff" not in calls["Fixed"]
        assert "retries" not in calls["Shard"]


def test_options_reach_the_dag() -> None:
    flow = load_flow(str(EXAMPLES / "foreach.py"))
    dag = dag_call(render(flow, schedule="@daily", start_date="2025-03-04T05:06", catchup=True))
    assert dag["schedule"] == "@daily"
    assert dag["catchup"] is True
    assert dag["start_date"] == (
        "datetime.datetime(2025, 3, 4, 5, 6, 0, tzinfo=datetime.timezone.utc)"
    )
    default = dag_call(render(flow))
    assert default["dag_id"] == "ForeachFlow"
    assert default["schedule"] is None and default["catchup"] is False
    assert default["start_date"].startswith("datetime.datetime(2024, 1, 1,")
    # By default the planning task reads [core] max_map_length where the DAG runs.
    assert constant(render(flow), "MAX_LEGS") is None
    assert "--then-plan=Process" in constant(render(flow), "COMMANDS")["Shard"]
    assert "--max-legs" not in constant(render(flow), "COMMANDS")["Shard"]
    assert constant(render(flow, max_map_length=50), "MAX_LEGS") == 50


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"dag_id": "has space"}, "--dag-id"),
        ({"dag_id": "a..b"}, "--dag-id"),
        ({"dag_id": "x" * 251}, "--dag-id"),
        ({"start_date": "yesterday"}, "--start-date"),
        ({"max_map_length": 0}, "--max-map-length"),
        ({"tag": ["x" * 101]}, "--tag"),
        ({"operator": "kubernetes"}, "no image"),
        ({"operator": "kubernetes", "image": "i", "datastore": None}, "datastore"),
    ],
)
def test_bad_options_fail_at_compile_time(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(CompileError, match=message):
        render(load_flow(str(EXAMPLES / "grid.py")), **extra)


def test_output_is_deterministic_and_has_no_absolute_paths(tmp_path: Path) -> None:
    args = ["compile", "examples/chained.py", "--target", "airflow", "--tag", "t"]
    first = laminar(*args, cwd=ROOT, env={"PYTHONHASHSEED": "1"}).stdout
    second = laminar(*args, cwd=ROOT, env={"PYTHONHASHSEED": "2"}).stdout
    assert first == second
    assert str(ROOT) not in first and str(tmp_path) not in first
    assert (
        first.startswith("# Generated by laminar")
        and "# Regenerate with: laminar compile examples/chained.py --target airflow" in first
    )


def test_check_reports_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "dags" / "grid.py"
    args = ["compile", "examples/grid.py", "--target", "airflow", "-o", str(out)]
    laminar(*args, cwd=ROOT)
    assert laminar(*args, "--check", cwd=ROOT).returncode == 0
    stale = laminar(*args, "--check", "--owner", "someone", cwd=ROOT, check=False)
    assert stale.returncode == 1 and "stale" in stale.stderr
    assert out.read_text().count("someone") == 0  # --check writes nothing


def test_a_layer_cannot_override_the_shim_environment() -> None:
    class ClashFlow(Flow): ...

    @ClashFlow.register(container=Container(env={"LAMINAR_LEG": "3"}))
    class Only(Layer):
        def __call__(self) -> None:
            pass

    with pytest.raises(CompileError, match="LAMINAR_LEG"):
        render(ClashFlow)


def test_tasks_run_laminar_in_process_unless_asked_for_a_subprocess() -> None:
    flow = load_flow(str(EXAMPLES / "grid.py"))
    assert constant(render(flow), "IN_PROCESS") is True
    assert constant(render(flow, shim="subprocess"), "IN_PROCESS") is False
    with pytest.raises(CompileError, match="--shim 'fork' must be one of"):
        render(flow, shim="fork")


@pytest.mark.parametrize(
    ("options", "cwd", "flow"),
    [
        ([], ".", "../pipeline.py:GridFlow"),  # the DAG's folder; FLOW relative to it
        (["--flow-cwd", ".."], "..", "pipeline.py:GridFlow"),  # as given, run from there
        (["--flow-path", "flows/p.py"], ".", "flows/p.py:GridFlow"),
    ],
)
def test_tasks_find_the_flow_from_the_dag_files_folder(
    options: list[str], cwd: str, flow: str, tmp_path: Path
) -> None:
    """By default the shim runs in the DAG file's folder (not the worker's working directory)
    and the flow's path is written relative to it: a DAG compiled into dags/ beside the flow
    finds it wherever Airflow's worker was started."""
    (tmp_path / "pipeline.py").write_text((EXAMPLES / "grid.py").read_text())
    laminar(
        "compile", "pipeline.py", "--target", "airflow", *options, "-o", "dags/dag.py",
        cwd=tmp_path,
    )  # fmt: skip
    text = (tmp_path / "dags" / "dag.py").read_text()
    assert constant(text, "FLOW_CWD") == cwd
    assert constant(text, "COMMANDS")["Shard"][:3] == ["task", flow, "--layer=Shard"]
    assert "os.path.join(os.path.dirname(os.path.abspath(__file__)), FLOW_CWD)" in text


def test_a_flow_not_named_by_an_identifier_is_found_from_any_folder(tmp_path: Path) -> None:
    """Its tasks load the file's only flow; the compiler checks that in the file it read,
    not at the path the tasks use (relative to the DAG's folder)."""
    work = tmp_path / "repo" / "src"
    work.mkdir(parents=True)
    (work / "odd.py").write_text(
        "from laminar import Flow, Layer\n\nOdd = type('odd flow', (Flow,), {})\n\n\n"
        "@Odd.register\nclass A(Layer):\n    def __call__(self) -> None:\n        self.x = 1\n"
    )
    out = tmp_path / "elsewhere" / "deep" / "dags" / "odd.py"
    laminar("compile", "odd.py", "--target", "airflow", "-o", str(out), cwd=work)
    shard = constant(out.read_text(), "COMMANDS")["A"]
    assert shard == ["task", "../../../repo/src/odd.py", "--layer=A"]
