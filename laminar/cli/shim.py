"""What the runtime shim's commands (``laminar plan``, ``task``, ``exit``, ``sync``) call,
from their parsed arguments: generated workflows run them in every task.

On a deployed task's start-up path: imports at module level stay as few as ``main.py``'s
(``laminar.runtime`` is imported by the command that runs).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from laminar.contract import EXIT, PLAN, SYNC_SNAPSHOT, PlanFormat
from laminar.errors import LaminarError
from laminar.text import printable

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

    from laminar.model.flow import Flow


def shim_command(flow: type[Flow], args: argparse.Namespace | SimpleNamespace) -> int:
    """``laminar exit``, ``laminar plan`` or ``laminar task`` on ``flow``."""
    from laminar.runtime import shim

    if args.command == EXIT:
        return shim.exit_hooks(
            flow.ir(),
            execution=args.execution,
            datastore=args.datastore,
            fail_if_run_failed=args.fail_if_run_failed,
        )
    if args.command == PLAN:
        return shim.plan(
            flow.ir(),
            args.layer,
            execution=args.execution,
            datastore=args.datastore,
            max_legs=args.max_legs,
            fmt=PlanFormat(args.format),
            output=args.output,
            resources_output=args.resources_output,
            gpu_resource=args.gpu_resource,
        )
    if len(args.then_plan) != len(args.plan_output):
        raise LaminarError("laminar task: give one --plan-output FILE per --then-plan LAYER.")
    return shim.task(
        flow.ir(),
        args.layer,
        execution=args.execution,
        datastore=args.datastore,
        leg=args.leg,
        owns_attempts=args.owns_attempts,
        then_plan=list(zip(args.then_plan, args.plan_output, strict=True)),
        plan_resources=dict(
            _layer_pair("--plan-resources", text, "Train=/tmp/laminar/resources/train")
            for text in args.plan_resources
        ),
        plan_keys=dict(_layer_pair("--plan-key", text, "Train=train") for text in args.plan_keys),
        plan_if_ended=frozenset(args.plan_if_ended),
        gpu_resource=args.gpu_resource,
        max_legs=args.max_legs,
        fmt=PlanFormat(args.format),
        skipped_status=args.skipped_status,
        finished_output=args.finished_output,
    )


def _layer_pair(option: str, text: str, example: str) -> tuple[str, str]:
    """``--OPTION=LAYER=VALUE`` as (layer, value): a layer name is an identifier; a key
    (``--plan-key``) names output lines, so it is letters, digits, ``_`` and ``-`` only."""
    layer, equals, value = text.partition("=")
    key_ok = option != "--plan-key" or (value.isascii() and value.replace("-", "_").isidentifier())
    if not (equals and layer.isidentifier() and value and key_ok):
        what = "LAYER=KEY (letters, digits, _ and -)" if option == "--plan-key" else "LAYER=FILE"
        raise LaminarError(
            f"laminar task: {option}={printable(text)} must be {what}, such as {option}={example}."
        )
    return layer, value


def sync_command(args: argparse.Namespace | SimpleNamespace) -> int:
    """``laminar sync snapshot`` or ``laminar sync changed``: no flow, only files."""
    from laminar.runtime import sync

    if args.sync_action == SYNC_SNAPSHOT:
        count = sync.snapshot(args.datastore, args.to)
        print(f"laminar sync: recorded {count} file(s) in {args.to}", file=sys.stderr)
        return 0
    copied = sync.changed(args.datastore, args.since, args.into)
    print(f"laminar sync: {len(copied)} new or changed file(s) in {args.into}", file=sys.stderr)
    return 0
