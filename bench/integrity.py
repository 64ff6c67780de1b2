"""What checksums and signing cost (issue 14): the million-element shard and 10,000 tasks.

Each figure is timed in one fresh process three ways, interleaved so machine load hits all
three alike, best of five rounds, in CPU seconds of the process (``time.process_time``: the
machine is shared, and wall time there measures the neighbours more than the checksums):
with the CRC-32 computation stubbed out (``off``: the same files and formats, no checksum
work; about the cost before issue 14), with checksums (the default), and with
``LAMINAR_SIGNING_KEY`` set (CRC-32 plus HMAC-SHA256).

Figures: ``execute()`` of a flow whose one layer does ``self.shard(foo=range(1_000_000))``;
iterating that shard in a fresh ``Execution``; ``execute()`` of 10,000 trivial ForEach tasks
(planning, running and group commits); and the join of their 10,000 results. The CPU-time
difference between the three is within the machine's noise (about 15% under load), so each
row also shows the time spent inside CRC-32 and HMAC themselves (the checksum work, summed
with a wall clock around each call): the "ok?" column judges that share.
"""

from __future__ import annotations

import json

from common import Result, main, python, workdir, write

SHARD = """
    from laminar import Flow, Layer

    class BigFlow(Flow): ...

    @BigFlow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(foo=range(1_000_000))
"""

FAN = """
    from laminar import Flow, Layer
    from laminar.configurations.layers import ForEach, Parameter

    class FanFlow(Flow): ...

    @FanFlow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(items=range(10_000))

    @FanFlow.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
    class Process(Layer):
        def __call__(self, start: Start) -> None:
            self.foo = start.items * 2
"""

MEASURE = """
    import json, os, time, types
    from laminar.store import integrity
    from laminar.store.datastore import Datastore
    from laminar.store.execution import Execution
    from laminar.runtime.executor import execute
    from laminar.model.loader import load_flow

    real_zlib, real_hmac = integrity.zlib, integrity.hmac
    off = types.SimpleNamespace(crc32=lambda data: 0)
    hashing = [0.0]  # seconds inside crc32 and HMAC: the checksum work itself

    def clocked(function):
        def wrapper(*args):
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                hashing[0] += time.perf_counter() - started
        return wrapper

    crc = types.SimpleNamespace(crc32=clocked(real_zlib.crc32))
    integrity.hmac = types.SimpleNamespace(
        digest=clocked(real_hmac.digest), compare_digest=real_hmac.compare_digest
    )
    shard, fan = load_flow("shard.py").ir(), load_flow("fan.py").ir()
    best = {}

    def timed(key, function):
        hashing[0] = 0.0
        started = time.process_time()
        function()
        best[key] = min(best.get(key, float("inf")), time.process_time() - started)
        best[key + ("hashing",)] = min(best.get(key + ("hashing",), float("inf")), hashing[0])

    for round in range(5):
        for mode in ("off", "crc", "hmac"):
            integrity.zlib = off if mode == "off" else crc
            if mode == "hmac":
                os.environ["LAMINAR_SIGNING_KEY"] = "bench-key"
            else:
                os.environ.pop("LAMINAR_SIGNING_KEY", None)
            run = f"{mode}-{round}"
            timed((mode, "shard"), lambda: execute(shard, Datastore("store"), run))
            read = Execution(Datastore("store"), "BigFlow", run)
            timed((mode, "iterate"), lambda: sum(read.attribute("Start", "foo", reader="b",
                                                                foreach=False)))
            timed((mode, "fan"), lambda: execute(fan, Datastore("store"), run))
            join = Execution(Datastore("store"), "FanFlow", run)
            timed((mode, "join"), lambda: list(join.attribute("Process", "foo", reader="b",
                                                              foreach=True)))
    print(json.dumps({"/".join(key): s for key, s in best.items()}))
"""

FIGURES = [
    ("shard", "self.shard(foo=range(1_000_000)) commit"),
    ("iterate", "iterate the 1M shard, fresh Execution"),
    ("fan", "execute() of 10,000 ForEach tasks"),
    ("join", "join list(process.foo), 10,000"),
]


def run() -> list[Result]:
    with workdir("integrity") as directory:
        write(directory, "shard.py", SHARD)
        write(directory, "fan.py", FAN)
        best = json.loads(python(MEASURE, directory).stdout)
    results = []
    for key, figure in FIGURES:
        off, crc, signed = (best[f"{mode}/{key}"] for mode in ("off", "crc", "hmac"))
        results.append(Result(f"{figure}: no checksum work (CPU)", off, "s"))
        for mode, label, value in (("crc", "checksums", crc), ("hmac", "signed (HMAC)", signed)):
            cost = 100 * (value - off) / off
            inside = best[f"{mode}/{key}/hashing"]
            share = 100 * inside / off
            results.append(
                Result(
                    f"  {label}: {cost:+.1f}% (hashing: {inside * 1e3:.1f} ms, {share:.1f}%)",
                    value,
                    "s",
                    "< +10%",
                    share < 10,
                )
            )
    return results


if __name__ == "__main__":
    main("Checksums and signing (issue 14)", run())
