"""Every example, compiled with several option sets, passes GitHub's workflow schema
(check-jsonschema's vendored copy) and actionlint (expressions, contexts, needs, action
inputs, script injection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES
from laminar.backends.base import CompileOptions

from github.harness import FLOWS, lint
from laminar.backends.github import GitHubBackend
from laminar.model.loader import load_flow

pytestmark = pytest.mark.e2e

FILES = [*sorted(EXAMPLES.glob("*.py")), FLOWS / "wide.py", FLOWS / "escaping.py"]
HOSTILE = "${{ github.token }} \"double\" 'single' $HOME `id` }}\nsecond ${{"
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "everything": {
        "datastore": "s3://bucket/flows",
        "github_on": ["push", "workflow_dispatch"],
        "github_schedule": ["0 3 * * *", "30 5 * * 1-5"],
        "github_runs_on": "self-hosted",
        "github_python_version": "3.11",
        "github_install": "pip install -r requirements.txt && pip install .",
        "github_max_parallel": 3,
        "github_max_legs": 10,
        "github_secret": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        "github_name": "Nightly \"flows\" #1: 'all'",
    },
    "hostile": {
        "datastore": HOSTILE,
        "github_runs_on": HOSTILE,
        "github_python_version": HOSTILE,
        "github_install": HOSTILE,
    },
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_examples_lint_clean(variant: str, tmp_path: Path) -> None:
    extra = dict(VARIANTS[variant])
    datastore = extra.pop("datastore", None)
    written = []
    for path in FILES:
        flow = load_flow(str(path))
        ref = f"{HOSTILE if variant == 'hostile' else 'flows'}/{path.name}:{flow.__name__}"
        options = CompileOptions(flow_ref=ref, datastore=datastore, extra=extra)
        target = tmp_path / f"{path.stem}.yml"
        target.write_text(GitHubBackend().render(flow.ir(), options))
        written.append(target)
    assert lint(*written) == []


def test_the_linters_catch_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a dangling ``needs`` and an injected expression are found."""
    flow = load_flow(str(EXAMPLES / "grid.py"))
    text = GitHubBackend().render(flow.ir(), CompileOptions(flow_ref="grid.py:GridFlow"))
    broken = tmp_path / "broken.yml"
    broken.write_text(
        text.replace("needs: [Shard]", "needs: [Missing]").replace(
            'run: "laminar task', 'run: "echo ${{ github.event.issue.title }}; laminar task'
        )
    )
    problems = "\n".join(lint(broken))
    assert "Missing" in problems or "missing" in problems
    assert "potentially untrusted" in problems
