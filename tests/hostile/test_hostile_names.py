"""Layer, flow and execution names the shim, the datastore and ``laminar graph`` must take.

Classes made with ``type(name, (Layer,), ...)`` can be named anything: like an option
(``--help``), with spaces, newlines, dots, escape codes or non-ASCII letters. Each must run
locally and through the shim (``laminar task FLOW --layer=NAME``), read back with ``laminar
show``, and appear in every graph format as data, never as syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import laminar

from laminar import Flow, Layer
from laminar.cli.graph import dot_string, mermaid_label, to_dot, to_mermaid, to_text
from laminar.cli.show import split_target
from laminar.errors import FlowDefinitionError
from laminar.text import printable

NAMES = ["--help", "-x", "a b", "a\nb", "ïif", "a.b", "\x1b[31mred", 'q"uote]#;<b>', "end"]

#: A flow whose layers carry every hostile name: the first shards, the second fans out over
#: it (a ForEach layer named like an option), the rest read it.
HOSTILE_FLOW = """
import json
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter

NAMES = json.loads({names!r})


class Hostile(Flow): ...


def _source(self) -> None:
    self.shard(n=[1, 2, 3])


Source = Hostile.register(type(NAMES[0], (Layer,), {{"__call__": _source}}))


def _fan(self, source: Source) -> None:
    self.double = source.n * 2


Hostile.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="n")]))(
    type(NAMES[1], (Layer,), {{"__call__": _fan}})
)


def _reader(name):
    def call(self, source: Source) -> None:
        self.seen = (name, list(source.n))
    return call


for name in NAMES[2:]:
    Hostile.register(type(name, (Layer,), {{"__call__": _reader(name)}}))
"""


@pytest.fixture
def hostile_flow(write_flow: Callable[[str], Path]) -> Path:
    return write_flow(HOSTILE_FLOW.format(names=json.dumps(NAMES)))


def test_hostile_layer_names_run_locally_and_show(hostile_flow: Path, tmp_path: Path) -> None:
    flow = str(hostile_flow)
    run = laminar("run", flow, "--execution", "local", cwd=tmp_path)
    assert "[2/9] -x: 3 tasks" in run.stderr
    assert "[4/9] a\\nb: ran" in run.stderr and "\x1b" not in run.stderr
    shown = laminar("show", flow, "--execution", "local", cwd=tmp_path).stdout
    assert "  a\\nb\n    seen = ('a\\nb', [1, 2, 3])" in shown
    assert "\x1b" not in shown
    for name in NAMES[2:]:
        value = laminar("show", flow, f"{name}.seen", "--execution", "local", cwd=tmp_path)
        assert value.stdout == printable(repr((name, [1, 2, 3]))) + "\n"
    # A layer whose name holds a dot is matched whole, then its attribute.
    assert laminar("show", flow, "a.b", "--execution", "local", cwd=tmp_path).stdout == (
        "seen = ('a.b', [1, 2, 3])\n"
    )


def test_hostile_layer_names_run_through_the_shim(hostile_flow: Path, tmp_path: Path) -> None:
    flow = str(hostile_flow)
    env = {"LAMINAR_EXECUTION": "shim", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    laminar("task", flow, "--layer=--help", cwd=tmp_path, env=env)
    plan = laminar("plan", flow, "--layer=-x", "--format", "count", cwd=tmp_path, env=env)
    assert plan.stdout == "3\n"
    for leg in range(3):
        laminar("task", flow, "--layer=-x", "--leg", str(leg), cwd=tmp_path, env=env)
    for name in NAMES[2:]:
        laminar("task", flow, f"--layer={name}", cwd=tmp_path, env=env)
    show = ("show", flow, "--datastore", str(tmp_path / "store"), "--execution", "shim")
    # A target that starts with "-" follows "--", after the options.
    assert laminar(*show, "--", "-x.double", cwd=tmp_path).stdout == ("[0] 2\n[1] 4\n[2] 6\n")
    assert laminar(*show, "a\nb.seen", cwd=tmp_path).stdout == ("('a\\nb', [1, 2, 3])\n")
    # Running a layer again is a no-op; an unknown name is a clear error naming the layers.
    unknown = laminar("task", flow, "--layer=--nope", cwd=tmp_path, env=env, check=False)
    assert unknown.returncode == 2
    assert "Flow Hostile has no layer named '--nope' (its layers: --help, -x, a b, a\\nb" in (
        unknown.stderr
    )


def _graph_flow() -> type[Flow]:
    class Graph(Flow): ...

    def call(self: Layer) -> None: ...

    first = Graph.register(type(NAMES[0], (Layer,), {"__call__": call}))

    def downstream(self: Layer, up: Layer) -> None: ...

    downstream.__annotations__["up"] = first  # the class itself, not a name to resolve

    for name in NAMES[1:]:
        Graph.register(type(name, (Layer,), {"__call__": downstream}))
    return Graph


def test_mermaid_names_are_labels_never_syntax() -> None:
    ir = _graph_flow().ir()
    lines = to_mermaid(ir).splitlines()
    assert lines[0] == "flowchart TD"
    nodes = [line for line in lines[1:] if "-->" not in line]
    edges = [line for line in lines[1:] if "-->" in line]
    assert len(nodes) == len(NAMES) and len(edges) == len(NAMES) - 1
    for index, line in enumerate(nodes):
        match = re.fullmatch(r'    n(\d+)\["([^"\[\]<>`\\]*)"\]', line)
        assert match, line
        assert int(match.group(1)) == index
        label = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), match.group(2))
        assert label == printable(NAMES[index])
    assert all(re.fullmatch(r"    n0 --> n\d+", edge) for edge in edges)
    assert mermaid_label('a"b') == '"a#34;b"'


def _dot_unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"')
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def test_dot_names_are_quoted_strings() -> None:
    ir = _graph_flow().ir()
    lines = to_dot(ir).splitlines()
    node = re.compile(r'    n(\d+) \[label=("(?:[^"\\\n]|\\.)*"), shape=box\];')
    labels = [node.fullmatch(line) for line in lines if "[label=" in line]
    assert all(labels) and len(labels) == len(NAMES)
    for index, match in enumerate(labels):
        assert match is not None and int(match.group(1)) == index
        assert _dot_unquote(match.group(2)) == printable(NAMES[index])
    assert dot_string('a\\"b\n') == '"a\\\\\\"b\\\\n"'


def test_text_and_json_graphs(tmp_path: Path, hostile_flow: Path) -> None:
    text = to_text(_graph_flow().ir())
    assert "\x1b" not in text and "  a\\nb  <- --help" in text
    data = json.loads(laminar("graph", str(hostile_flow), "--format", "json", cwd=tmp_path).stdout)
    assert [layer["name"] for layer in data["layers"]] == NAMES
    for fmt in ("mermaid", "dot", "text"):
        out = laminar("graph", str(hostile_flow), "--format", fmt, cwd=tmp_path).stdout
        assert "\x1b" not in out and "a\nb" not in out


def test_show_target_parsing() -> None:
    layers = ["A", "a.b", "a.b.c", "x"]
    assert split_target(layers, "A") == ("A", "")
    assert split_target(layers, "A.foo") == ("A", "foo")
    assert split_target(layers, "a.b") == ("a.b", "")
    assert split_target(layers, "a.b.value") == ("a.b", "value")
    assert split_target(layers, "a.b.c.value") == ("a.b.c", "value")
    assert split_target(layers, "nope.value") == ("nope", "value")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", r"Layer class name is empty \(.*\): name the class"),
    ],
)
def test_layer_names_no_path_or_command_line_can_carry(name: str, message: str) -> None:
    class F(Flow): ...

    def call(self: Layer) -> None: ...

    F.register(type(name, (Layer,), {"__call__": call}))
    with pytest.raises(FlowDefinitionError, match=message):
        F.ir()


def test_very_long_layer_names_run_and_stay_distinct(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    source = """
    from laminar import Flow, Layer

    class F(Flow): ...

    def make(name):
        def call(self) -> None:
            self.x = name[-1]
        return type(name, (Layer,), {"__call__": call})

    for suffix in "ab":
        F.register(make("L" * 300 + suffix))
    """
    flow = str(write_flow(source))
    laminar("run", flow, "--execution", "e", cwd=tmp_path)
    for suffix in "ab":
        shown = laminar("show", flow, "L" * 300 + suffix + ".x", "--execution", "e", cwd=tmp_path)
        assert shown.stdout == f"'{suffix}'\n"
    layers = [p.name for p in (tmp_path / ".laminar" / "F" / "e").iterdir() if p.is_dir()]
    assert len(layers) == 2 and all(len(name) < 100 for name in layers)


def test_flow_named_with_spaces_is_addressable(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    source = """
    from laminar import Flow, Layer

    Nightly = type("Nightly run", (Flow,), {})
    Other = type("Other", (Flow,), {})


    @Nightly.register
    class A(Layer):
        def __call__(self) -> None:
            self.x = 1
    """
    flow = str(write_flow(source))
    several = laminar("graph", flow, cwd=tmp_path, check=False)
    assert f"choose one with '{flow}:Nightly run'" in several.stderr
    env = {"LAMINAR_EXECUTION": "e", "LAMINAR_DATASTORE": str(tmp_path / "s")}
    laminar("task", f"{flow}:Nightly run", "--layer=A", cwd=tmp_path, env=env)
    store = str(tmp_path / "s")
    shown = laminar("show", f"{flow}:Nightly run", "A.x", "--datastore", store, cwd=tmp_path)
    assert shown.stdout == "1\n"
    missing = laminar("graph", f"{flow}:Nope", cwd=tmp_path, check=False)
    assert "defines no Flow named Nope (it defines: Nightly run, Other)" in missing.stderr


def test_flow_file_with_a_colon_in_its_path(
    write_flow: Callable[[str, str], Path], tmp_path: Path
) -> None:
    directory = tmp_path / "a:b.py:c"
    directory.mkdir()
    path = directory / "flow.py"
    path.write_text(
        "from laminar import Flow, Layer\nclass F(Flow): ...\n"
        "@F.register\nclass A(Layer):\n    def __call__(self) -> None: ...\n"
    )
    assert laminar("graph", str(path), cwd=tmp_path).stdout == "F\n  A\n"
    assert laminar("graph", f"{path}:F", cwd=tmp_path).stdout == "F\n  A\n"


@pytest.mark.parametrize(
    "execution", ["a/b", "..", "../../escape", "x" * 250, "sp ace", "日本", "-dash", "{{x}}"]
)
def test_execution_ids_stay_inside_the_datastore(tmp_path: Path, execution: str) -> None:
    from conftest import EXAMPLES

    flow = str(EXAMPLES / "diamond.py")
    store = tmp_path / "deep" / "store"
    laminar("run", flow, f"--execution={execution}", "--datastore", str(store), cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["store"]
    assert [p.name for p in store.iterdir()] == ["DiamondFlow"]
    shown = laminar("show", flow, "--datastore", str(store), cwd=tmp_path)
    assert shown.stdout.startswith(printable(execution) + "  succeeded  started ")
    assert shown.stdout.count("\n") == 1
    again = laminar(
        "run", flow, f"--execution={execution}", "--datastore", str(store), cwd=tmp_path
    )
    assert "resuming DiamondFlow" in again.stderr and "already committed" in again.stderr


@pytest.mark.parametrize(
    ("execution", "message"),
    [
        ("x" * 251, r"--execution is 251 characters long \('xxxxxxxxxxxxxxxxxxxx'\.\.\.\); an "),
        ("", r"--execution is empty"),
    ],
)
def test_execution_ids_refused(tmp_path: Path, execution: str, message: str) -> None:
    from conftest import EXAMPLES

    result = laminar(
        "run", str(EXAMPLES / "diamond.py"), f"--execution={execution}", cwd=tmp_path, check=False
    )
    assert result.returncode == 2 and re.search(message, result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("execution", "message"),
    [
        ("", r"^execution is empty"),
        ("a\x00b", r"^execution 'a\\x00b' contains a NUL character"),
        ("caf\udce9", r"^execution 'caf\\xe9' is not valid UTF-8"),
        ("x" * 251, r"^execution is 251 characters long"),
    ],
)
def test_execution_ids_refused_from_python(execution: str, message: str) -> None:
    from laminar.contract import check_execution_id
    from laminar.errors import LaminarError

    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self) -> None: ...

    with pytest.raises(LaminarError, match=message):
        check_execution_id(execution, "execution")
    if execution:  # F()(execution="") starts a new execution, as execution=None does
        with pytest.raises(LaminarError, match=message):
            F()(execution=execution, datastore="memory://hostile-ids")
    with pytest.raises(LaminarError, match=message):
        F.results(execution=execution, datastore="memory://hostile-ids")


def test_an_attribute_name_that_is_not_utf8_is_an_error_not_a_traceback(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    source = """
    from laminar import Flow, Layer

    class F(Flow): ...

    @F.register
    class A(Layer):
        def __call__(self) -> None:
            setattr(self, "caf\\udce9", 1)
    """
    flow = str(write_flow(source))
    for args in (("run", flow), ("task", flow, "--layer=A", "--execution=e")):
        result = laminar(*args, cwd=tmp_path, check=False)
        assert result.returncode == 2
        assert "Layer A set an attribute named 'caf\\xe9', which is not valid UTF-8" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
