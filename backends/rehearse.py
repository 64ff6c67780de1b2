"""Rehearse a deployment: run the lowered job graph on this machine as the orchestrator would.

``laminar run FLOW --target T`` builds the same ``JobGraph`` ``laminar compile`` renders, then
runs each job as a separate ``laminar plan`` / ``laminar task`` process with the command and
environment the generated file gives it: legs fanned out from what the plans really printed,
the target's caps and batching, plans fused into the job before them, gates that skip,
retries where the orchestrator owns them, timeouts and concurrency caps. What only the engine
can check (its scheduler, its YAML parser, its UI) is left to the engine tests.

A job starts once every job it waits for has ended and none failed (a skipped one does not
stop it: every target lets the shim decide what a skip means downstream), and runs only if its
gates say so. Output paths in a command are moved into a scratch folder, and ``$VAR`` outputs
get a file of their own, so that jobs never share a file the target would keep apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from laminar.backends.jobs import Job, JobGraph, JobKind, Output, OutputKind
from laminar.backends.traits import Traits
from laminar.contract import (
    ENV_ATTEMPT,
    ENV_DATASTORE,
    ENV_EXECUTION,
    ENV_INPUTS,
    ENV_LEG,
    ENV_RUN_STATUS,
    PlanFormat,
)

SUCCEEDED, SKIPPED, FAILED, NOT_RUN = "succeeded", "skipped", "failed", "not run"


@dataclass
class Ended:
    """How one job ended, what it wrote for the orchestrator, and how deep it ran."""

    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    legs: int = 0
    processes: int = 0
    #: Jobs on the longest chain of jobs that ran, this one included.
    depth: int = 0


@dataclass
class Summary:
    jobs: dict[str, Ended]
    seconds: float

    @property
    def failed(self) -> list[str]:
        return [job for job, ended in self.jobs.items() if ended.status == FAILED]

    def line(self) -> str:
        ran = [e for e in self.jobs.values() if e.status in (SUCCEEDED, FAILED)]
        skipped = sum(e.status == SKIPPED for e in self.jobs.values())
        depth = max((e.depth for e in self.jobs.values()), default=0)
        return (
            f"{len(ran)} jobs ran, {skipped} skipped; {sum(e.legs for e in ran)} legs, "
            f"{sum(e.processes for e in ran)} processes; critical path {depth} jobs deep; "
            f"{self.seconds:.2f}s"
        )


class Rehearsal:
    """One rehearsal of ``graph`` for a target with ``traits``."""

    def __init__(
        self,
        graph: JobGraph,
        traits: Traits,
        *,
        execution: str,
        datastore: str,
        inputs: Mapping[str, object],
        workers: int = 1,
        run_time_env: Mapping[str, str] | None = None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.graph, self.traits = graph, traits
        self.workers, self.say = max(1, workers), say
        self.scratch = Path(tempfile.mkdtemp(prefix="laminar-rehearsal-"))
        secrets = {name for job in graph.jobs for name in job.secrets}
        self.base_env = {k: v for k, v in os.environ.items() if k not in secrets}
        self.base_env.update(run_time_env or {})
        self.base_env.update(
            {ENV_EXECUTION: execution, ENV_DATASTORE: datastore, ENV_INPUTS: json.dumps(inputs)}
        )

    def run(self) -> Summary:
        started = time.monotonic()
        ended: dict[str, Ended] = {}
        for job in self.graph.jobs:
            ended[job.id] = self.job(job, ended)
            note = f" ({ended[job.id].legs} legs)" if job.kind is JobKind.MAPPED else ""
            self.say(f"{job.id}: {ended[job.id].status}{note}")
        exit_job = self.graph.exit
        if exit_job is not None:  # whatever happened, told how the run ended
            failed = any(e.status in (FAILED, NOT_RUN) for e in ended.values())
            self.base_env[ENV_RUN_STATUS] = "Failed" if failed else "Succeeded"
            status, _ = self.process(exit_job, None)
            self.say(f"{exit_job.id}: {status}")
            if status == FAILED and not self.traits.exit_reports_run:
                ended[exit_job.id] = Ended(FAILED)  # a hook failed (not the run's verdict)
        return Summary(ended, time.monotonic() - started)

    # -- one job ----------------------------------------------------------------------------
    def job(self, job: Job, ended: dict[str, Ended]) -> Ended:
        before = [ended[j] for j in job.after]
        if any(e.status in (FAILED, NOT_RUN) for e in before):
            return Ended(NOT_RUN)
        if not all(
            self.gate_open(g.output, self.written(g.output, g.job, g.otherwise, ended))
            for g in job.gates
        ):
            return Ended(SKIPPED)
        depth = 1 + max((e.depth for e in before), default=0)
        if job.kind is not JobKind.MAPPED:
            status, outputs = self.process(job, None)
            return Ended(status, outputs, processes=1, depth=depth)
        assert job.plan is not None
        output = self.graph.legs_of(job.id)
        legs = self.legs(output, self.written(output, job.plan, job.plan_otherwise, ended))
        if legs == 0:
            return Ended(SKIPPED, depth=depth)  # an empty fan-out: no legs start
        cap = min(self.workers, job.concurrency or self.workers)
        done: list[str] = []
        wrote: dict[str, str] = {}

        def leg_of(leg: int) -> str:
            status, written = self.process(job, leg)
            wrote.update(written)  # a layer that runs once: its one leg plans what follows
            done.append(status)  # list.append is atomic: the count below is exact
            self.say(f"{job.id}[{len(done)}/{legs}] leg {leg} {status}")
            return status

        with ThreadPoolExecutor(max_workers=cap) as pool:
            statuses = list(pool.map(leg_of, range(legs)))
        status = FAILED if FAILED in statuses else SUCCEEDED
        if all(s == SKIPPED for s in statuses):
            status = SKIPPED
        return Ended(status, wrote, legs=legs, processes=legs, depth=depth)

    def written(
        self, output: Output, job: str, otherwise: tuple[str, ...], ended: dict[str, Ended]
    ) -> Ended:
        """The job whose ``output`` the target reads: ``job``, or where it was skipped, the
        first of ``otherwise`` that wrote it (GitHub's ``a || b`` over empty outputs)."""
        for other in otherwise if ended[job].status == SKIPPED else ():
            if ended[other].status == SUCCEEDED and self.value(output, ended[other]):
                return ended[other]
        return ended[job]

    def gate_open(self, output: Output, decider: Ended) -> bool:
        if decider.status != SUCCEEDED:
            return False  # a skipped decider's outputs read as empty
        value = self.value(output, decider)
        if output.kind is OutputKind.LEGS:
            return value not in ("", "0")
        return value == "true"

    def legs(self, output: Output, planner: Ended) -> int:
        value = self.value(output, planner) if planner.status == SUCCEEDED else "0"
        return int(value or 0)

    def value(self, output: Output, job: Ended) -> str:
        """What ``output`` holds, read as the target reads it."""
        text = job.outputs.get(output.path, "")
        if self.traits.plan_format is PlanFormat.GITHUB:
            lines = dict(line.partition("=")[::2] for line in text.splitlines())
            return lines.get(output.name, "")
        if self.traits.plan_format is PlanFormat.LIST and output.kind is OutputKind.LEGS:
            return str(len(json.loads(text))) if text.strip() else "0"
        return text.strip()

    # -- one process ------------------------------------------------------------------------
    def process(self, job: Job, leg: int | None) -> tuple[str, dict[str, str]]:
        """Run ``job`` (leg ``leg``) with its retries; its status and outputs by path."""
        folder = Path(tempfile.mkdtemp(prefix=f"{job.id[:40]}-", dir=self.scratch))
        files = {out.path: folder / f"output-{n}" for n, out in enumerate(job.outputs)}
        argv, env = self.command(job, files), dict(self.base_env)
        env.update(job.env)
        env.update({name: os.environ.get(name, "") for name in job.secrets})
        for path, file in files.items():
            if path.startswith("$"):
                env[path[1:]] = str(file)
        if leg is not None:
            env[ENV_LEG] = str(leg)
        attempts = job.retry.attempts if job.retry is not None else 1
        for attempt in range(1, attempts + 1):
            env[ENV_ATTEMPT] = str(attempt)  # the try number the orchestrator hands over
            status = self.attempt(job, leg, argv, env)
            if status != FAILED or attempt == attempts:
                break
            assert job.retry is not None
            time.sleep(job.retry.wait_before(attempt))
        outputs = {p: f.read_text() for p, f in files.items() if f.exists()}
        return status, outputs

    def command(self, job: Job, files: Mapping[str, Path]) -> list[str]:
        """The job's command with this machine's laminar and the scratch output files."""
        words = [sys.executable, "-m", "laminar"]
        for word in job.argv[job.executable :]:
            flag, equals, value = word.partition("=")
            if word in files and not word.startswith("$"):
                word = str(files[word])
            elif equals and value in files and not value.startswith("$"):
                word = f"{flag}={files[value]}"
            words.append(word)
        return words

    def attempt(self, job: Job, leg: int | None, argv: list[str], env: dict[str, str]) -> str:
        name = job.id if leg is None else f"{job.id}[{leg}]"
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=job.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            self.say(f"{name}: stopped after its timeout of {job.timeout:g}s")
            return FAILED
        if done.stdout:
            sys.stdout.write(done.stdout)
        if done.returncode == 0:
            return SUCCEEDED
        if self.traits.skipped_status and done.returncode == self.traits.skipped_status:
            return SKIPPED
        self.say(f"{name} failed (exit status {done.returncode}):\n{done.stderr.rstrip()}")
        return FAILED


def describe(graph: JobGraph, target: str) -> str:
    """The job graph as text, for ``--dry-run``: what each job would run, nothing executed."""
    lines = [f"{graph.flow} on {target}: {len(graph.jobs)} jobs"]
    for job in graph.jobs:
        after = f" after {', '.join(job.after)}" if job.after else ""
        lines.append(f"  {job.id} ({job.kind.value}{after})")
        lines.append(f"    runs: {' '.join(job.argv)}")
        if job.plan:
            lines.append(
                f"    legs: as many as {job.plan} prints{_otherwise(job.plan, job.plan_otherwise)}"
            )
        if job.apart:
            lines.append(f"    planned apart: {job.apart}")
        for gate in job.gates:
            says = f"{gate.job} says {gate.layer} runs ({gate.output.name})"
            lines.append(f"    only if: {says}{_otherwise(gate.job, gate.otherwise)}")
        names = [name for name, _ in job.env] + [f"{name} (secret)" for name in job.secrets]
        if names:
            lines.append(f"    env: {', '.join(names)}")
    return "\n".join(lines) + "\n"


def _otherwise(job: str, others: tuple[str, ...]) -> str:
    """`` (or X, when JOB is skipped)``: who else writes a plan's output."""
    return f" (or {', '.join(others)}, when {job} is skipped)" if others else ""
