"""The ``if:`` of a job: its needs, its gates, and where a fan-out reads its legs.

GitHub skips a job whose implicit ``success()`` sees a skipped job ANYWHERE up its ``needs``
(actions/runner#2205), so every job with needs states its own condition, built here from
ids laminar made legal (``spec.legal_id`` checks each one again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from laminar.backends.document import Expression
from laminar.backends.github.spec import expression, legal_id
from laminar.backends.jobs import Gate, OutputKind


@dataclass(frozen=True)
class Legs:
    """Where a fan-out's plan is read: output ``name`` of job ``job`` (``legs``, or
    ``legs-<fan-out>`` on a job that plans several), with its ``matrix`` beside it.

    ``otherwise``: jobs that write the same outputs when ``job`` was skipped (they skipped
    what the plan reads). A skipped job's outputs read as ``''``, so ``a || b`` reads
    whichever wrote; ``!failure()`` rules out that neither did because something failed.
    """

    job: str
    name: str
    otherwise: tuple[str, ...] = ()

    @property
    def count(self) -> str:
        return _first(self.job, self.otherwise, self.name, grouped=True)

    @property
    def matrix_name(self) -> str:
        return "matrix" + self.name.removeprefix("legs")

    @property
    def matrix(self) -> Expression:
        return expression(f"fromJSON({_first(self.job, self.otherwise, self.matrix_name)})")

    @property
    def written(self) -> tuple[str, ...]:
        """The terms that say the plan was written: its job succeeded; with ``otherwise``,
        or was skipped by a decision (not after a failure: ``!failure()``)."""
        if not self.otherwise:
            return (f"needs.{legal_id(self.job)}.result == 'success'",)
        return ("!failure()", _settled(self.job))


def _first(job: str, otherwise: Sequence[str], output: str, grouped: bool = False) -> str:
    """Output ``output`` of ``job``, or where that job was skipped, of the first of
    ``otherwise`` that wrote it; ``grouped``: in parentheses when there are several, for a
    comparison after it (``!=`` binds tighter than ``||``)."""
    read = " || ".join(f"needs.{legal_id(j)}.outputs.{legal_id(output)}" for j in (job, *otherwise))
    return f"({read})" if grouped and otherwise else read


def _succeeded(job: str, legs: Legs | None) -> str:
    """Need ``job`` succeeded; ``legs`` given (a fan-out), or was skipped because its plan
    succeeded with zero legs."""
    succeeded = f"needs.{legal_id(job)}.result == 'success'"
    if legs is None:
        return succeeded
    return (
        f"({succeeded} || (needs.{job}.result == 'skipped' && "
        f"{' && '.join(legs.written)} && {legs.count} == '0'))"
    )


def _settled(job: str) -> str:
    """Need ``job`` succeeded or was skipped (by a decision: ``!failure()`` rules out a skip
    caused by a failure)."""
    job = legal_id(job)
    return f"(needs.{job}.result == 'success' || needs.{job}.result == 'skipped')"


#: A gate's kind of output -> the comparison that says its decider decided to run. A skipped
#: job's outputs read as ``''``: ``finished`` is then not ``'true'``; ``legs`` is not ``'0'``,
#: but a skipped plan also skips every job between it and the gated one (their needs fail).
_GATES = {OutputKind.LEGS: "!= '0'", OutputKind.FINISHED: "== 'true'"}


def _gate(gate: Gate) -> str:
    read = _first(gate.job, gate.otherwise, gate.output.name, grouped=True)
    return f"{read} {_GATES[gate.output.kind]}"


def needs_succeeded(
    checks: Sequence[tuple[str, Legs | None]],
    gates: Sequence[Gate] = (),
    *,
    after_skips: bool = False,
) -> Expression:
    """A job's ``if:``: its needs, then its gates.

    Without a status function GitHub adds ``success()``, which is false when ANY job up the
    ``needs`` chain was skipped (actions/runner#2205). ``!cancelled()`` replaces it, and each
    direct need is checked instead: ``(job, None)`` must have succeeded; ``(job, plan)``, a
    fan-out, must have succeeded or been skipped because ``plan`` succeeded with zero legs. A
    failed need, or one skipped because something failed, still stops the job.

    ``after_skips`` (a planning job whose entry hooks decide): each need may also have been
    skipped, and ``!failure()`` (true when any ancestor failed) stops it after a failure.
    """
    return expression(" && ".join(_terms(checks, gates, after_skips)))


def _terms(
    checks: Sequence[tuple[str, Legs | None]], gates: Sequence[Gate], after_skips: bool
) -> list[str]:
    terms = ["!cancelled()"]
    if after_skips:
        terms.append("!failure()")
        terms += [_settled(job) for job, _ in checks]
    else:
        terms += [_succeeded(job, legs) for job, legs in checks]
    return terms + [_gate(gate) for gate in gates]


def has_legs(
    legs: Legs,
    gates: Sequence[Gate] = (),
    checks: Sequence[tuple[str, Legs | None]] = (),
    *,
    after_skips: bool = False,
) -> Expression:
    """A fan-out's ``if:``: its plan succeeded with legs (an empty dynamic matrix would fail
    the run), whatever was skipped further up, and its gates (as ``needs_succeeded``).
    ``checks``: its other needs, where an earlier job planned it (as ``needs_succeeded``)."""
    terms = _terms(checks, gates, after_skips)
    terms[1:1] = [*legs.written, f"{legs.count} != '0'"]
    return expression(" && ".join(dict.fromkeys(terms)))
