"""``flow(...)``: running a whole flow from Python, what ``Flow.__call__`` delegates to.

Two ways in, one policy: in a flow file run as a script (``python flow.py``) the options not
given come from the command line and a failure exits, as ``laminar run`` does; called from
Python (a test, a notebook) nothing is read from ``sys.argv`` and a failing task raises the
user's own exception, with a note saying where it was raised and how to resume (the note
names the datastore, so the command works as written).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from laminar.contract import redact_url
from laminar.runtime.context import TaskFailed
from laminar.runtime.executor import execute, new_execution_id
from laminar.runtime.handle import Execution
from laminar.runtime.script import run_script
from laminar.store.datastore import Datastore

if TYPE_CHECKING:
    from laminar.model.flow import Flow

#: Whether exceptions take notes (``add_note``: Python 3.11 and later).
NOTES = hasattr(BaseException, "add_note")


def run_flow(
    flow: Flow,
    *,
    execution: str | Execution | None,
    datastore: str | None,
    workers: int | None,
    inputs: dict[str, Any],
) -> Execution:
    """Run every layer of ``flow`` on this machine; returns the execution's handle."""
    cls = type(flow)
    datastore = datastore or flow.datastore
    if flow.scheduler is not None or (workers is None and flow.executor is not None):
        from laminar.configurations.executors import announce

        announce(flow.scheduler)
        if workers is None and flow.executor is not None:
            announce(flow.executor)
            workers = flow.executor.workers
    if datastore is not None and datastore.startswith("memory://"):
        workers = 1  # an in-memory store lives in this process only
    given = str(execution) if execution else None
    if flow:  # a flow file run as a script
        module = sys.modules.get(cls.__module__)
        ran = run_script(
            cls.ir,
            getattr(module, "__file__", None),
            execution=given,
            datastore=datastore,
            workers=workers,
            inputs=inputs,
        )
        return Execution(cls, ran, datastore)
    execution_id = given or new_execution_id()
    try:
        execute(cls.ir(), Datastore(datastore), execution_id, workers=workers or 1, inputs=inputs)
    except TaskFailed as failure:
        # The user's own exception, with where it happened; a worker process's failure
        # arrives as text only, so it stays a TaskFailed.
        cause = failure.__cause__
        if not isinstance(cause, Exception):
            raise
        where = failure.layer if failure.index is None else f"{failure.layer}[{failure.index}]"
        again = resume_call(cls.__name__, datastore, execution_id)
        note(cause, f"laminar: raised by {where} in execution {execution_id}; fix it, then "
             f"resume with {again}.")  # fmt: skip
        raise cause from None
    return Execution(cls, execution_id, datastore)


def resume_call(flow: str, datastore: str | None, execution: str) -> str:
    """The Python call that resumes ``execution``: ``Flow(datastore=...)(execution=...)``."""
    where = f"datastore={redact_url(datastore)!r}" if datastore else ""
    return f"{flow}({where})(execution={execution!r})"


def note(error: BaseException, text: str) -> None:
    """Attach ``text`` to ``error`` as a note. Before Python 3.11 the traceback does not
    print notes, so it is also printed on stderr (and kept in ``__notes__`` as 3.11 would)."""
    if NOTES:
        error.add_note(text)
        return
    notes = getattr(error, "__notes__", None)
    error.__notes__ = [*(notes if isinstance(notes, list) else []), text]
    print(text, file=sys.stderr, flush=True)
