"""Compiling large flows: a chain and a wide fan-in of 100, 1,000 and 5,000 layers.

For each shape and size a flow file is generated, loaded once (import + IR build, timed), and
rendered to every target in ``laminar.backends.TARGETS``. A target whose module does not
import is skipped and named in the output. The figure per target is load + render, as
``laminar compile`` spends it; goal under 2 s at 1,000 layers, growing linearly (the 5,000
layer time at most 7.5x the 1,000 layer time, i.e. within 1.5x of linear).

The chain alternates plain layers and ForEach layers over the previous layer's shard, so the
IR's fan-out checks (``attributes.py`` source parsing) run on every other layer.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import Result, check, main, python, workdir

SIZES = (100, 1_000, 5_000)

HEADER = """\
from laminar import Flow, Layer
from laminar.configurations.layers import ForEach, Parameter


class Big(Flow): ...

"""


def chain(n: int) -> str:
    parts = [HEADER]
    for i in range(n):
        if i % 2 == 0:
            upstream = f", up: L{i - 1}" if i else ""
            parts.append(
                f"@Big.register\nclass L{i}(Layer):\n"
                f"    def __call__(self{upstream}) -> None:\n"
                f"        self.shard(items=[1, 2])\n\n"
            )
        else:
            parts.append(
                f"@Big.register(foreach=ForEach(parameters=[Parameter(layer=L{i - 1}, "
                f'attribute="items")]))\nclass L{i}(Layer):\n'
                f"    def __call__(self, up: L{i - 1}) -> None:\n"
                f"        self.items = up.items\n\n"
            )
    return "".join(parts)


def fan_in(n: int) -> str:
    parts = [HEADER]
    for i in range(n - 1):
        parts.append(
            f"@Big.register\nclass L{i}(Layer):\n    def __call__(self) -> None:\n"
            f"        self.value = {i}\n\n"
        )
    arguments = ", ".join(f"l{i}: L{i}" for i in range(n - 1))
    parts.append(
        f"@Big.register\nclass Join(Layer):\n    def __call__(self, {arguments}) -> None:\n"
        f"        self.total = 0\n"
    )
    return "".join(parts)


MEASURE = """
    import json, sys, time
    from laminar.backends import TARGETS, generate
    from laminar.model.loader import load_flow

    started = time.perf_counter()
    ir = load_flow("flow.py").ir()
    load = time.perf_counter() - started
    out = {"load": load, "targets": {}, "skipped": {}}
    for target in sorted(TARGETS):
        extra = {"s3_secret": "s3-credentials"} if target == "argo" else {}
        started = time.perf_counter()
        try:
            text = generate(
                target, ir, flow_ref="flow.py:Big", datastore="s3://bench/flows",
                image="example/flows:1", command="laminar compile flow.py", **extra,
            )
        except Exception as error:
            out["skipped"][target] = f"render failed: {type(error).__name__}: {error}"
            continue
        out["targets"][target] = {"render": time.perf_counter() - started, "bytes": len(text)}
    print(json.dumps(out))
"""


def measure(directory: Path, source: str) -> dict[str, object]:
    (directory / "flow.py").write_text(source)
    for stale in directory.glob("__pycache__"):
        for file in stale.iterdir():
            file.unlink()
    found: dict[str, object] = json.loads(python(MEASURE, directory).stdout)
    return found


def run() -> list[Result]:
    results: list[Result] = []
    skipped: dict[str, str] = {}
    for shape, generate in (("chain", chain), ("fan-in", fan_in)):
        times: dict[str, dict[int, float]] = {}
        for n in SIZES:
            with workdir(f"compile-{shape}-{n}") as directory:
                found = measure(directory, generate(n))
            skipped.update(found["skipped"])  # type: ignore[arg-type]
            load = float(found["load"])  # type: ignore[arg-type]
            results.append(Result(f"{shape} {n:,}: load flow + build IR", load, "s"))
            for target, figures in found["targets"].items():  # type: ignore[attr-defined]
                total = load + figures["render"]
                times.setdefault(target, {})[n] = total
                goal = "< 2 s" if n == 1_000 else ""
                ok = check(total, 2) if n == 1_000 else None
                results.append(Result(f"{shape} {n:,}: compile to {target}", total, "s", goal, ok))
        for target, by_size in sorted(times.items()):
            if 1_000 in by_size and 5_000 in by_size:
                growth = by_size[5_000] / by_size[1_000]
                results.append(
                    Result(
                        f"{shape}: {target} 5,000 / 1,000 layers",
                        growth,
                        "x",
                        "linear: <= 7.5x",
                        check(growth, 7.5),
                    )
                )
    for target, why in sorted(skipped.items()):
        results.append(Result(f"target {target} skipped", None, "", "", None, why[:200]))
    return results


if __name__ == "__main__":
    main("compiling large flows", run())
