"""GitHub Actions under act (issue 15): what a compiled job costs beyond checkout and install.

Three one-job workflows, each run alone by ``act workflow_dispatch`` in host mode with the
test suite's offline stand-ins for setup-python, cache and the artifact actions
(``tests/github/actions``), and the same ``--install`` (laminar is already on PATH):

* **baseline**: checkout, setup-python, install, then ``true``: what any job costs here;
* **laminar, remote datastore**: a compiled one-layer flow whose jobs share a datastore
  directory (``--datastore DIR``): checkout, setup-python, pip cache, install, the shim;
* **laminar, artifacts**: the same flow with the artifacts datastore (the default): plus the
  download, ``laminar sync`` before and after, and the upload.

Each is the median wall time of ``REPEAT`` act runs (act's own start-up is in every figure,
so the differences are what laminar adds to a job). What GitHub's hosted runners add (a VM,
downloading actions, a real pip install, a cache hit or miss) is not measured here: the
stand-ins run offline.

Usage: .venv/bin/python bench/act_overhead.py   (act from ``.ci/setup-github.sh``)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Result, main, workdir, write

sys.path.insert(0, str(ROOT / "tests"))
from github.harness import STAND_INS, python_version

REPEAT = 3

FLOW = """
    from laminar import Flow, Layer


    class OneFlow(Flow): ...


    @OneFlow.register
    class Only(Layer):
        def __call__(self) -> None:
            self.value = 1
"""

BASELINE = """
    name: baseline
    on: workflow_dispatch
    jobs:
      only:
        runs-on: ubuntu-latest
        steps:
          - uses: actions/checkout@v6
            with:
              persist-credentials: false
          - uses: actions/setup-python@v5
            with:
              python-version: "{python}"
          - name: Install
            run: command -v laminar
          - run: "true"
"""


def act_binary() -> str:
    """act from the CI setup script (which installs it when missing)."""
    found = os.environ.get("LAMINAR_ACT")
    if found:
        return found
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "setup-github.sh")], capture_output=True, text=True, check=True
    )
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return values["LAMINAR_ACT"].strip("'\"")


def run_act(act: str, project: Path, work: Path) -> float:
    """One ``act workflow_dispatch`` of ``project``; its wall time (it must succeed)."""
    argv = [
        act, "workflow_dispatch", "-P", "ubuntu-latest=-self-hosted", "--no-cache-server",
        "--action-cache-path", str(work / "action-cache"),
        "--env", f"LAMINAR_TEST_ARTIFACTS={work / 'artifacts'}",
        "--env", f"LAMINAR_TEST_PYTHON_BIN={Path(os.path.abspath(sys.executable)).parent}",
    ]  # fmt: skip
    for action, folder in STAND_INS.items():
        argv += ["--local-repository", f"{action}={folder}"]
    env = {"HOME": str(work / "home"), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
    (work / "home").mkdir(parents=True, exist_ok=True)
    log = work / "act.log"
    started = time.perf_counter()
    with log.open("w") as handle:
        done = subprocess.run(argv, cwd=project, env=env, stdout=handle, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        failed = [line for line in log.read_text().splitlines() if "git" not in line]
        raise RuntimeError(f"act failed in {project}:\n" + "\n".join(failed[-60:]))
    return elapsed


def project(root: Path, name: str, *compile_options: str, compiled: bool = True) -> Path:
    """A project folder with one workflow: the baseline, or the flow compiled with options."""
    folder = root / name
    workflows = folder / ".github" / "workflows"
    workflows.mkdir(parents=True)
    if not compiled:
        write(workflows, "baseline.yml", BASELINE.format(python=python_version()))
        return folder
    write(folder, "flow.py", FLOW)
    subprocess.run(
        [sys.executable, "-m", "laminar", "compile", "flow.py", "--target", "github",
         "--python-version", python_version(), "--install", "command -v laminar",
         *compile_options, "-o", ".github/workflows/flow.yml"],
        cwd=folder, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return folder


def run(repeat: int = REPEAT) -> list[Result]:
    act = act_binary()
    with workdir("act") as root:
        shared = root / "shared-datastore"
        variants = {
            "baseline": project(root, "baseline", compiled=False),
            "laminar, remote datastore": project(root, "remote", "--datastore", str(shared)),
            "laminar, artifacts": project(root, "artifacts"),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for attempt in range(repeat):  # interleaved, so the machine's load hits all alike
            for name, folder in variants.items():
                slug = "-".join(name.replace(",", "").split())  # act runs scripts unquoted
                work = root / f"work-{attempt}-{slug}"
                times[name].append(run_act(act, folder, work))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["baseline"]
    results = [Result(f"act job: {name}", value, "s") for name, value in medians.items()]
    for name in ("laminar, remote datastore", "laminar, artifacts"):
        results.append(Result(f"laminar's cost beyond checkout and install ({name.split(', ')[1]})",
                              medians[name] - base, "s"))  # fmt: skip
    return results


if __name__ == "__main__":
    main("GitHub Actions under act: a job's cost beyond checkout and install", run())
