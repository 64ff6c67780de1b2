"""The shim commands every target runs, for flows that branch: ``laminar plan`` runs a
layer's entry hooks and prints its legs (none: skipped), ``laminar task`` records skips and
says so by its exit status and ``--finished-output``, ``laminar show`` and ``graph`` mark
them. Run as an orchestrator would: one process per job, in the graph's order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import ROOT, laminar

FLOW = str(ROOT / "tests" / "flows" / "branching.py")
ENV = {"LAMINAR_EXECUTION": "e1"}


def shim(tmp_path: Path, *args: str, flow: str = "ConditionalFlow") -> tuple[int, str, str]:
    store = ["--datastore", str(tmp_path / "store")]
    done = laminar(
        *args[:1], f"{FLOW}:{flow}", *args[1:], *store, cwd=tmp_path, env=ENV, check=False
    )
    return done.returncode, done.stdout, done.stderr


def test_a_layer_with_an_entry_hook_is_planned_one_leg_or_none(tmp_path: Path) -> None:
    assert shim(tmp_path, "task", "--layer=A")[0] == 0
    code, out, err = shim(tmp_path, "plan", "--layer=B", "--format", "count")
    assert (code, out) == (0, "0\n")
    assert "B skipped: entry hook failure returned False" in err
    code, out, _ = shim(tmp_path, "plan", "--layer=B", "--format", "github")
    assert out.startswith("legs=0\n")  # the committed plan, not the hook again
    assert shim(tmp_path, "task", "--layer=C")[0] == 0
    # D was committed as skipped with B: its task only says so, by the status asked for.
    code, _, err = shim(tmp_path, "task", "--layer=D", "--skipped-status=99")
    assert code == 99
    assert "laminar: D was skipped, as recorded earlier: B was skipped" in err
    assert shim(tmp_path, "task", "--layer=D")[0] == 0  # default: a skip is a success
    code, out, _ = shim(tmp_path, "plan", "--layer=E", "--format", "list")
    assert (code, out) == (0, "[0]\n")
    assert shim(tmp_path, "task", "--layer=E", "--leg", "0")[0] == 0
    shown = laminar(
        "show", f"{FLOW}:ConditionalFlow", "--execution", "e1",
        "--datastore", str(tmp_path / "store"), cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "  B [skipped: entry hook failure returned False]" in shown
    assert "  D [skipped: B was skipped]" in shown
    assert "foo = ['baz']" in shown


def test_a_caught_error_is_reported_as_not_finished(tmp_path: Path) -> None:
    assert shim(tmp_path, "task", "--layer=Measure", flow="Branches")[0] == 0
    output = tmp_path / "out" / "finished"
    code, _, err = shim(
        tmp_path, "task", "--layer=Lookup", "--format", "count",
        f"--finished-output={output}", flow="Branches",
    )  # fmt: skip
    assert code == 0 and output.read_text() == "false\n"
    assert "Lookup: KeyError: 'missing'" in err
    github = tmp_path / "github_output"
    github.write_text("x=1\n")
    code, _, _ = shim(
        tmp_path, "task", "--layer=Measure", "--format", "github",
        f"--finished-output={github}", flow="Branches",
    )  # fmt: skip
    assert github.read_text() == "x=1\nfinished=true\n"  # appended, as $GITHUB_OUTPUT wants


def test_an_output_named_by_a_variable_is_the_file_it_holds_when_the_task_runs(
    tmp_path: Path,
) -> None:
    """Generated commands name ``$GITHUB_OUTPUT`` (GitHub) and ``$LAMINAR_OUTPUT`` (Airflow)
    literally; the shim writes the file the variable holds, and refuses one that is unset."""
    github = tmp_path / "github_output"
    github.write_text("x=1\n")
    store = ["--datastore", str(tmp_path / "store")]
    flow = f"{FLOW}:Branches"
    done = laminar(
        "task", flow, "--layer=Measure", "--format", "github",
        "--finished-output=$GITHUB_OUTPUT", *store,
        cwd=tmp_path, env={**ENV, "GITHUB_OUTPUT": str(github)},
    )  # fmt: skip
    assert done.returncode == 0
    assert github.read_text() == "x=1\nfinished=true\n"
    legs = tmp_path / "legs.json"
    laminar(
        "plan", flow, "--layer=Square", "--format", "list", "--output", "$LAMINAR_OUTPUT", *store,
        cwd=tmp_path, env={**ENV, "LAMINAR_OUTPUT": str(legs), "LAMINAR_MAX_LEGS": "2"},
    )  # fmt: skip
    assert json.loads(legs.read_text()) == [0, 1]  # the cap handed over by the orchestrator
    unset = laminar(
        "plan", flow, "--layer=Square", "--format", "list", "--output", "$NOT_SET_HERE", *store,
        cwd=tmp_path, env=ENV, check=False,
    )  # fmt: skip
    assert unset.returncode != 0
    assert "names the file in $NOT_SET_HERE, which is not set here" in unset.stderr
    assert "Traceback" not in unset.stderr


def test_an_entry_hook_error_fails_the_plan_with_the_users_traceback(
    write_flow: object, tmp_path: Path
) -> None:
    flow = tmp_path / "broken.py"
    flow.write_text(
        "from laminar import Flow, Layer\n"
        "from laminar.configurations import hooks\n\n"
        "class Broken(Flow): ...\n\n"
        "@Broken.register\n"
        "class Check(Layer):\n"
        "    @hooks.entry\n"
        "    def ready(self) -> bool:\n"
        "        return 1 / 0 > 0\n"
    )
    done = laminar("plan", str(flow), "--layer=Check", cwd=tmp_path, env=ENV, check=False)
    assert done.returncode == 1
    assert 'broken.py", line 10, in ready' in done.stderr
    assert "laminar: error: Check failed: ZeroDivisionError: division by zero" in done.stderr


def test_graph_marks_entry_hooks_and_catch(tmp_path: Path) -> None:
    text = laminar("graph", f"{FLOW}:Branches", cwd=tmp_path).stdout
    assert "  Retrain (if drifted())  <- Measure" in text
    assert "  Halve (foreach Square.value 1:1; catch ValueError)  <- Square" in text
    layers = json.loads(
        laminar("graph", f"{FLOW}:Branches", "--format", "json", cwd=tmp_path).stdout
    )
    report = next(layer for layer in layers["layers"] if layer["name"] == "Report")
    assert report["hooks"] == [
        {"kind": "entry", "name": "always", "flow": False},
        {"kind": "execution", "name": "around", "flow": False},
    ]


def test_show_keeps_hostile_reasons_on_one_inert_line(tmp_path: Path) -> None:
    flow = tmp_path / "hostile_reason.py"
    flow.write_text(
        "from laminar import Catch, Flow, Layer\n\n"
        "class Loud(Flow): ...\n\n"
        "@Loud.register(catch=Catch(ValueError))\n"
        "class Shout(Layer):\n"
        "    def __call__(self) -> None:\n"
        "        raise ValueError('line\\n\\x1b[31mred ' + 'x' * 2000)\n"
    )
    laminar("run", str(flow), "--execution", "h", cwd=tmp_path)
    shown = laminar("show", str(flow), "--execution", "h", cwd=tmp_path).stdout
    line = next(text for text in shown.splitlines() if "Shout" in text)
    assert "\x1b" not in shown and "\\x1b[31mred" in line
    assert "caught: ValueError: line\\nred" not in line  # the newline stays escaped
    assert len(line) < 700  # the reason was cut when it was recorded


def test_a_layer_with_an_entry_hook_is_not_planned_before_its_upstreams(tmp_path: Path) -> None:
    """An orchestrator that starts a join too early gets an error, not a decision made on a
    state that is not there yet."""
    assert shim(tmp_path, "task", "--layer=A")[0] == 0
    code, out, err = shim(tmp_path, "plan", "--layer=E", "--format", "count")
    assert code == 2 and out == ""
    assert "Layer E cannot start in execution e1: its upstream C has not run yet" in err


def test_show_says_how_a_layer_ended_and_refuses_attributes_it_does_not_have(
    tmp_path: Path,
) -> None:
    store = str(tmp_path / "store")
    laminar("run", f"{FLOW}:Branches", "--execution", "s", "--datastore", store, cwd=tmp_path)

    def show(target: str) -> Any:
        return laminar(
            "show", f"{FLOW}:Branches", target, "--execution", "s", "--datastore", store,
            cwd=tmp_path, check=False,
        )  # fmt: skip

    assert show("Publish").stdout == "[skipped: entry hook passed returned False]\n"
    assert show("Square").stdout.splitlines()[0] == "[5 tasks, 2 skipped (1, 3)]"
    assert show("Retrain").stdout.splitlines()[0].startswith("model = ")  # it finished
    refused = show("Publish.url")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr == (
        "laminar: error: Publish did not finish (skipped: entry hook passed returned False), "
        "so it has no attribute url.\n"
    )
    assert show("Square.value").stdout == "[0] 1\n[1] 9\n[2] 25\n"


def test_a_plan_at_the_end_of_an_earlier_job_checks_only_what_it_reads(tmp_path: Path) -> None:
    """Issue 24: Product fans out over Source and also waits for Scale; Source's job plans
    it (--then-plan) before Scale has run, and Scale's plans Big before Product has run. A
    planning job of its own still refuses to plan before every upstream ran."""
    product = tmp_path / "product"
    code, _, err = shim(
        tmp_path, "task", "--layer=Source", "--format", "count", "--then-plan=Product",
        f"--plan-output={product}", flow="Early",
    )  # fmt: skip
    assert code == 0 and product.read_text() == "3\n", err
    code, _, err = shim(tmp_path, "plan", "--layer=Big", "--format", "count", flow="Early")
    assert code == 2 and "its upstream Scale has not run yet" in err
    legs = tmp_path / "legs"
    code, _, err = shim(
        tmp_path, "task", "--layer=Scale", "--format", "count", "--then-plan=Big",
        f"--plan-output={legs}", flow="Early",
    )  # fmt: skip
    # Big's hook reads Scale alone: decided now, though Product (an upstream) has not run.
    assert code == 0 and legs.read_text() == "0\n", err
    assert "Big skipped: entry hook large returned False" in err


def test_a_job_writes_several_plans_into_one_github_output_by_key(tmp_path: Path) -> None:
    """Issue 24: Measure's job plans Retrain and decides Report; each plan's lines are
    named by its --plan-key, so GitHub reads both from one $GITHUB_OUTPUT."""
    github = tmp_path / "github_output"
    github.write_text("earlier=1\n")
    code, _, err = shim(
        tmp_path, "task", "--layer=Measure", "--format", "github",
        "--then-plan=Retrain", f"--plan-output={github}", "--plan-key=Retrain=Retrain",
        "--then-plan=Report", f"--plan-output={github}", "--plan-key=Report=the-report",
        flow="Branches",
    )  # fmt: skip
    assert code == 0, err
    lines = github.read_text().splitlines()
    assert lines[0] == "earlier=1"
    assert dict(line.split("=", 1) for line in lines[1:]) == {
        "legs-Retrain": "1",
        "count-Retrain": "1",
        "matrix-Retrain": '{"leg":[0]}',
        "legs-the-report": "1",
        "count-the-report": "1",
        "matrix-the-report": '{"leg":[0]}',
    }
    for bad in ("Retrain", "Retrain=", "Retrain=a b", "Retrain=x;y"):
        code, _, err = shim(
            tmp_path, "task", "--layer=Measure", "--format", "github", "--then-plan=Retrain",
            f"--plan-output={github}", f"--plan-key={bad}", flow="Branches",
        )  # fmt: skip
        assert code == 2 and "must be LAYER=KEY (letters, digits, _ and -)" in err, err


def test_a_job_plans_a_hook_reading_a_layer_only_once_that_layer_was_skipped(
    tmp_path: Path,
) -> None:
    """Issue 24: Mended's hook reads Big. Scale's job plans it (--plan-if-ended) only after
    it skipped Big; before Big is decided it writes nothing, for Big's job to plan it."""
    early, late = tmp_path / "early", tmp_path / "late"
    code, _, err = shim(
        tmp_path, "task", "--layer=Scale", "--format", "github",
        "--then-plan=Mended", f"--plan-output={early}", "--plan-if-ended=Mended", flow="Early",
    )  # fmt: skip
    assert code == 0 and not early.exists(), err
    code, _, err = shim(
        tmp_path, "task", "--layer=Scale", "--format", "github",
        "--then-plan=Big", f"--plan-output={late}", "--plan-key=Big=Big",
        "--then-plan=Mended", f"--plan-output={late}", "--plan-key=Mended=Mended",
        "--plan-if-ended=Mended", flow="Early",
    )  # fmt: skip
    assert code == 0, err
    lines = dict(line.split("=", 1) for line in late.read_text().splitlines())
    assert (lines["legs-Big"], lines["legs-Mended"]) == ("0", "1")
    assert "Big skipped: entry hook large returned False" in err
