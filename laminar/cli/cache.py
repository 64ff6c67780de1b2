"""``laminar cache FLOW list|clear|why [LAYER[TASK]]``: the flow's cache entries, dropped,
or what went into a task's key (docs/caching.md). Keys show names and digests, never values.
"""

from __future__ import annotations

import argparse
import re
import time

from laminar.errors import LaminarError
from laminar.ir import FlowIR, LayerSpec
from laminar.model.flow import Flow
from laminar.runtime.results import open_execution
from laminar.store.cache import CacheIndex
from laminar.store.datastore import Datastore
from laminar.store.execution import MAIN, Execution
from laminar.text import printable

ACTIONS = ("list", "clear", "why")
_TASK = re.compile(r"(.+)\[(\d+)\]")


def add_cache_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS, help="list, clear or explain (why) entries")
    parser.add_argument(
        "layer", nargs="?", metavar="LAYER[TASK]", help="one cached layer (why: one task)"
    )
    parser.add_argument(
        "--execution", metavar="ID", help="why: the execution whose task to explain (latest)"
    )


def cache_command(flow: type[Flow], args: argparse.Namespace) -> int:
    ir = flow.ir()
    store = Datastore(args.datastore)
    if args.action == "why":
        return _why(ir, open_execution(store, ir.name, args.execution), args.layer)
    # Any execution's objects reach the flow's cache index: the entries belong to none.
    index = CacheIndex(Execution(store, ir.name, "-").objects)
    for spec in _cached(ir, args.layer):
        keys = index.entries(spec.name)
        if args.action == "clear":
            index.clear(spec.name)
            print(f"{printable(spec.name)}: {len(keys)} cache entries cleared")
            continue
        print(f"{printable(spec.name)}: {len(keys)} cache entries")
        damaged = index.damaged(spec.name)
        if damaged:
            print(f"  {damaged} damaged or unsigned entry files (their entries are misses)")
        for key in keys:
            entry = index.read(spec.name, [key], None)[0]
            if entry is None:
                print(f"  {key[:16]}  unreadable (a miss)")
                continue
            age = (time.time() - entry.created) / 3600
            where = f"execution {printable(entry.execution)} task {printable(entry.task)}"
            print(f"  {key[:16]}  {where}, {age:.1f} h old")
    return 0


def _cached(ir: FlowIR, layer: str | None) -> list[LayerSpec]:
    cached = [spec for spec in ir.layers.values() if spec.settings.cache is not None]
    if layer is None:
        return cached
    found = [spec for spec in cached if spec.name == layer]
    if not found:
        names = ", ".join(spec.name for spec in cached) or "none"
        raise LaminarError(
            f"{ir.name} has no cached layer {printable(layer)} (cached layers: {names}); "
            "cache a layer with @Flow.register(cache=True)."
        )
    return found


def _why(ir: FlowIR, execution: Execution, target: str | None) -> int:
    match = _TASK.fullmatch(target or "")
    name, index = (match.group(1), int(match.group(2))) if match else (target, None)
    spec = _cached(ir, name)[0] if name else None
    if spec is None:
        raise LaminarError("laminar cache FLOW why needs a LAYER, or LAYER[TASK] for a ForEach.")
    plan = execution.commits.read_plan(spec.name) if spec.is_foreach else None
    if spec.is_foreach and (index is None or plan is None or not 0 <= index < plan.count):
        raise LaminarError(
            f"{spec.name} is a ForEach layer: name one of its planned tasks, as {spec.name}[0]."
        )
    from laminar.runtime.task import Runtime  # what computing a key needs, only here

    runtime = Runtime(ir, execution)
    try:
        key, parts = runtime.cache.keys.key(spec, index, plan)
    except KeyError as error:
        raise LaminarError(f"{spec.name} has no cache key: {error.args[0]}") from None
    label = spec.name if index is None else f"{spec.name}[{index}]"
    print(f"{printable(label)} in execution {printable(execution.id)}: key {key}")
    for part, digest in parts:
        print(f"  {printable(part)}: {printable(digest)}")
    entry = runtime.cache.index.read(spec.name, [key], None)[0]
    task = MAIN if index is None else str(index)
    manifest = execution.commits.read_manifest(spec.name, task)
    if manifest is not None and manifest.cached_from:
        print(f"served from the cache: values of execution {printable(manifest.cached_from)}")
    elif entry is not None:
        print(f"cache entry: execution {printable(entry.execution)} task {printable(entry.task)}")
    else:
        print("no cache entry for this key")
    return 0
