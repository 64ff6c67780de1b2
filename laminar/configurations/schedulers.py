"""Scheduler configurations in the original laminar library's spelling:
``MyFlow(scheduler=schedulers.Scheduler())``.

In the original library the scheduler ordered the layers of a local run, submitted them to the
executor and waited for them; "delegated" schedulers were to hand the flow to another engine.
laminar's local executor is that active scheduler, and handing a flow to another engine is
``laminar compile --target argo|airflow|github``: these classes are accepted so that flows
written for the original run unchanged, and say once what they become here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scheduler:
    """The active scheduler: runs the layers in dependency order, submitting each one's tasks
    to the executor and waiting for them (what ``flow()`` and ``laminar run`` do)."""

    def notice(self) -> str | None:
        """A one-line notice when laminar schedules differently than this names."""
        return None


@dataclass(frozen=True)
class Delegated(Scheduler):
    """The original library's experimental delegated scheduler: the flow compiled for another
    engine. Here that is ``laminar compile``; a run with it is the local one."""

    def notice(self) -> str | None:
        return (
            "schedulers.Delegated() hands a flow to another engine: here that is `laminar "
            "compile FLOW --target argo|airflow|github`; this run is scheduled locally."
        )


class AWS:
    """The original library's AWS schedulers."""

    @dataclass(frozen=True)
    class StepFunctions(Delegated):
        """Accepted: AWS Step Functions is not a laminar target (Argo, Airflow and GitHub
        Actions are); the flow is scheduled locally."""

        def notice(self) -> str | None:
            return (
                "schedulers.AWS.StepFunctions() is not a laminar target: compile the flow "
                "with `laminar compile FLOW --target argo|airflow|github`; this run is "
                "scheduled locally."
            )
