"""Every example, compiled with several option sets, passes GitHub's workflow schema
(check-jsonschema's vendored copy) and actionlint (expressions, contexts, needs, action
inputs, script injection)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES

from github.harness import FLOWS, lint
from laminar.backends import generate
from laminar.model.loader import load_flow

pytestmark = pytest.mark.e2e

SHARED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
#: Flow files, as ``path`` or ``path:FlowClass`` where a file holds several flows.
FILES = [
    *map(str, sorted(EXAMPLES.glob("*.py"))),
    *(str(FLOWS / name) for name in ("wide.py", "escaping.py", "skips.py")),
    str(FLOWS / "hooks_after_failure.py"),
    *(f"{SHARED_FLOWS / 'branching.py'}:{name}" for name in ("ConditionalFlow", "Branches")),
]
HOSTILE = "${{ github.token }} \"double\" 'single' $HOME `id` }}\nsecond ${{"
#: A datastore URL is refused with control characters in it: the same text on one line.
HOSTILE_URL = HOSTILE.replace("\n", " ")
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "everything": {
        "datastore": "s3://bucket/flows",
        "on": ["push", "workflow_dispatch"],
        "schedule": ["0 3 * * *", "30 5 * * 1-5"],
        "runs_on": "self-hosted",
        "python_version": "3.11",
        "install": "pip install -r requirements.txt && pip install .",
        "max_parallel": 3,
        "max_legs": 10,
        "secret": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        "name": "Nightly \"flows\" #1: 'all'",
    },
    "hostile": {
        "datastore": HOSTILE_URL,
        "runs_on": HOSTILE,
        "python_version": HOSTILE,
        "install": HOSTILE,
    },
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_examples_lint_clean(variant: str, tmp_path: Path) -> None:
    written = []
    for file in FILES:
        flow = load_flow(file)
        path = Path(file.partition(":")[0])
        ref = f"{HOSTILE if variant == 'hostile' else 'flows'}/{path.name}:{flow.__name__}"
        target = tmp_path / f"{path.stem}-{flow.__name__}.yml"
        target.write_text(generate("github", flow.ir(), flow_ref=ref, **VARIANTS[variant]))
        written.append(target)
    assert lint(*written) == []


def test_the_linters_catch_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a dangling ``needs`` and an injected expression are found."""
    flow = load_flow(str(EXAMPLES / "grid.py"))
    text = generate("github", flow.ir(), flow_ref="grid.py:GridFlow")
    broken = tmp_path / "broken.yml"
    needs = '    needs:\n      - "Shard"\n'
    assert needs in text
    broken.write_text(
        text.replace(needs, needs.replace("Shard", "Missing")).replace(
            'run: "laminar task', 'run: "echo ${{ github.event.issue.title }}; laminar task'
        )
    )
    problems = "\n".join(lint(broken))
    assert "Missing" in problems or "missing" in problems
    assert "potentially untrusted" in problems
