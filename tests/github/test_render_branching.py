"""Branching on GitHub, read back as YAML: gates in ``if:``, the jobs they read in ``needs``,
hook layers' planning jobs after skips, and Catch's ``finished`` output.

Running them is in test_act_branching.py; linting in test_lint.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flows.branching import FLOWS

from github.test_render import load, render

#: Every job-level ``if:`` is these terms joined by ``&&``/``||`` in parentheses; every name
#: in them is a job id (checked against the job's needs below).
TERM = re.compile(
    r"!cancelled\(\)|!failure\(\)"
    r"|needs\.(?P<a>[_A-Za-z][A-Za-z0-9_-]*)\.result == '(success|skipped)'"
    r"|needs\.(?P<b>[_A-Za-z][A-Za-z0-9_-]*)\.outputs\.legs(-[_A-Za-z][A-Za-z0-9_-]*)? (==|!=) '0'"
    r"|needs\.(?P<c>[_A-Za-z][A-Za-z0-9_-]*)\.outputs\.finished == 'true'"
    # A plan written by one of several jobs: (needs.A.outputs.legs-X || ...) != '0'.
    r"|needs\.(?P<d>[_A-Za-z][A-Za-z0-9_-]*)\.outputs\.legs-[_A-Za-z][A-Za-z0-9_-]*(?= \|\||\))"
    r"|(?<=\) )(==|!=) '0'"
)


def jobs_of(name: str) -> dict[str, Any]:
    return load(render(FLOWS[name], f"tests/flows/branching.py:{name}"))["jobs"]  # type: ignore[no-any-return]


def referenced(condition: str) -> list[str]:
    """The job ids a condition reads; fails on anything but the terms above."""
    assert condition.startswith("${{ ") and condition.endswith(" }}"), condition
    body = condition[4:-3]
    found: list[str] = []
    position = 0
    while position < len(body):
        if body[position] in " ()":
            position += 1
            continue
        if body.startswith(("&&", "||"), position):
            position += 2
            continue
        match = TERM.match(body, position)
        assert match is not None, f"unexpected at {body[position:]!r}"
        found += [g for g in match.group("a", "b", "c", "d") if g is not None]
        position = match.end()
    return found


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_branching_workflows_are_deterministic_and_every_if_is_built_from_ids(name: str) -> None:
    flow = FLOWS[name]
    text = render(flow)
    assert text == render(flow)
    jobs = load(text)["jobs"]
    for job_id, job in jobs.items():
        if "if" not in job:
            assert not job.get("needs"), job_id
            continue
        for read in referenced(job["if"]):
            # GitHub reads outputs and results of direct needs only.
            assert read in job["needs"], (job_id, read)
        for need in job.get("needs", []):
            assert need in jobs


def test_a_hook_layer_is_planned_and_its_skip_gates_the_layers_after_it() -> None:
    """B's only upstream A runs once, so A's job runs B's entry hooks (issue 24): no B-plan."""
    jobs = jobs_of("ConditionalFlow")
    assert "B-plan" not in jobs
    shim = next(s for s in jobs["A"]["steps"] if s.get("id") == "shim")
    assert shim["run"].startswith("laminar task tests/flows/branching.py:ConditionalFlow --layer=A")
    assert "--then-plan=B" in shim["run"]
    assert jobs["B"]["needs"] == ["A"]
    assert jobs["B"]["if"] == (
        "${{ !cancelled() && needs.A.result == 'success' && needs.A.outputs.legs-B != '0' }}"
    )
    # D waits on B's decision: A is in its needs so that its output can be read.
    assert jobs["D"]["needs"] == ["B", "A"]
    assert jobs["D"]["if"] == (
        "${{ !cancelled() && needs.B.result == 'success' && needs.A.outputs.legs-B != '0' }}"
    )


def test_a_hook_layers_legs_run_after_skips_but_not_after_a_failure() -> None:
    """E's hook reads no layer: C's job (C always runs) decides it (issue 24). Its legs job
    waits for C and D, runs after a skipped D, never after a failure."""
    jobs = jobs_of("ConditionalFlow")
    assert "E-plan" not in jobs
    assert jobs["E"]["needs"] == ["C", "D"]
    assert jobs["E"]["if"] == (
        "${{ !cancelled() && needs.C.result == 'success' && needs.C.outputs.legs-E != '0' "
        "&& !failure() && (needs.D.result == 'success' || needs.D.result == 'skipped') }}"
    )


def test_a_gate_reaches_every_job_after_the_decision_and_its_decider_is_a_need() -> None:
    jobs = jobs_of("Branches")
    # Publish's hook reads Retrain: Retrain's job decides it, or Measure's when it skipped
    # Retrain (issue 24); a skipped job's outputs read as '', so the gate reads either.
    gate = "(needs.Retrain.outputs.legs-Publish || needs.Measure.outputs.legs-Publish) != '0'"
    assert "Publish-plan" not in jobs
    for job_id in ("Announce", "Notify", "Archive"):
        assert {"Retrain", "Measure"} <= set(jobs[job_id]["needs"]), job_id
        assert jobs[job_id]["if"].endswith(f"&& {gate} }}}}"), job_id
    publish = jobs["Publish"]
    assert publish["needs"] == ["Retrain", "Measure"]
    assert publish["strategy"]["matrix"] == (
        "${{ fromJSON(needs.Retrain.outputs.matrix-Publish || "
        "needs.Measure.outputs.matrix-Publish) }}"
    )
    # Neither wrote the plan only after a failure: !failure() then stops the job.
    assert publish["if"].startswith(
        "${{ !cancelled() && !failure() && "
        "(needs.Retrain.result == 'success' || needs.Retrain.result == 'skipped') && "
        f"{gate}"
    )
    # Notify is planned by Announce's job, skipped with it by the same gate (issue 24).
    assert jobs["Notify"]["needs"] == ["Announce", "Retrain", "Measure"]
    # Archive follows a ForEach: an empty fan-out is not a skip, so the plan's legs decide.
    assert jobs["Archive"]["needs"] == ["Announce", "Notify", "Retrain", "Measure"]
    # The join has an entry hook that reads no layer: Lookup's job decides it, and skipped
    # needs do not stop it, a failure does.
    report = jobs["Report"]["if"]
    assert "needs.Lookup.outputs.legs-Report != '0'" in report and "!failure()" in report
    assert "Report-plan" not in jobs


def test_a_catch_layer_reports_finished_and_gates_the_layers_after_it() -> None:
    jobs = jobs_of("Branches")
    lookup = jobs["Lookup"]
    assert lookup["outputs"]["finished"] == "${{ steps.shim.outputs.finished }}"
    shim = next(s for s in lookup["steps"] if s.get("id") == "shim")
    assert shim["run"] == (  # the shim reads the variables: no shell expands them
        "laminar task tests/flows/branching.py:Branches --layer=Lookup --format github "
        "--max-legs 256 --then-plan=Report '--plan-output=$GITHUB_OUTPUT' "
        "--plan-key=Report=Report '--finished-output=$GITHUB_OUTPUT'"
    )
    assert jobs["UseLookup"]["needs"] == ["Lookup"]
    # A skipped Lookup's output reads '': not 'true', so UseLookup is skipped then too.
    assert jobs["UseLookup"]["if"] == (
        "${{ !cancelled() && needs.Lookup.result == 'success' "
        "&& needs.Lookup.outputs.finished == 'true' }}"
    )
    # Jobs without a Catch decision to report have no outputs but their plans': Measure's job
    # runs Retrain's entry hooks (issue 24), so it has their legs, and no finished.
    assert set(jobs["Measure"]["outputs"]) >= {"legs-Retrain", "matrix-Retrain"}
    assert not {"finished", "legs", "matrix"} & set(jobs["Measure"]["outputs"])
    assert "outputs" not in jobs["UseLookup"]
