"""Run every benchmark and print one table: figure, value, goal, ok?

    .venv/bin/python bench/run.py            # everything (Metaflow N=1,000 takes minutes)
    .venv/bin/python bench/run.py --quick    # Metaflow at N = 10, 100; Airflow at N = 50 only
    .venv/bin/python bench/run.py shard foreach   # some of them, by name

Each benchmark also runs alone: ``python bench/<name>.py``. Figures are wall-clock times
from ``time.perf_counter``; on a shared machine they vary, so the load average is printed.
"""

from __future__ import annotations

import argparse
import time
import traceback
from collections.abc import Callable

import act_overhead
import compile_scale
import deployed_overhead
import foreach_scale
import integrity
import metaflow_compare
import remote_s3
import shard_scale
import workers
from common import Result, machine, table

BENCHMARKS: dict[str, tuple[str, Callable[[bool], list[Result]]]] = {
    "shard": ("chunked shards (issues 2 and 6)", lambda quick: shard_scale.run()),
    "foreach": ("ForEach fan-out and join (issues 2 and 6)", lambda quick: foreach_scale.run()),
    "integrity": ("checksums and signing (issue 14)", lambda quick: integrity.run()),
    "workers": ("laminar run --workers", lambda quick: workers.run()),
    "s3": ("remote datastore on moto S3", lambda quick: remote_s3.run()),
    "compile": ("compiling large flows", lambda quick: compile_scale.run()),
    "deployed": (
        "deployed overhead: shim start-up, Airflow compiled vs native (issue 15)",
        lambda quick: deployed_overhead.run((50,) if quick else deployed_overhead.SIZES),
    ),
    "act": (
        "GitHub Actions under act: a job's cost beyond checkout and install (issue 15)",
        lambda quick: act_overhead.run(1 if quick else act_overhead.REPEAT),
    ),
    "metaflow": (
        "laminar vs Metaflow",
        lambda quick: metaflow_compare.run((10, 100) if quick else metaflow_compare.SIZES),
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller N for Metaflow and Airflow")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    print(f"# laminar benchmarks\n# {machine()}", flush=True)
    everything: list[Result] = []
    failed = False
    for name in names:
        title, bench = BENCHMARKS[name]
        started = time.perf_counter()
        try:
            results = bench(args.quick)
        except Exception:
            failed = True
            results = [Result(f"{name}: benchmark failed", None, "", note=traceback.format_exc())]
        elapsed = time.perf_counter() - started
        print(f"\n## {title} ({elapsed:.0f}s)\n{table(results)}", flush=True)
        everything += results
    missed = [r.figure for r in everything if r.ok is False]
    print(f"\n# {machine()}")
    print(f"# goals missed: {', '.join(missed) if missed else 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
