"""Remote datastore: joins and Accessor reads fetch concurrently, not one request at a time.

A local S3 API (moto, started and stopped here) holds an execution whose ForEach committed
one manifest per task, as deployed legs of one task do. In fresh ``Execution`` objects (cold
caches) we time the join ``list(process.foo)``, which fetches manifests in batches through
fsspec's concurrent ``cat``, against reading the same results one request after another;
and iterating a shard of many chunks against one element read per request.

moto answers from one Python process on this 2-core machine, so its CPU, not the network,
bounds concurrency. The same figures are therefore also taken with a simulated round trip
of 20 ms per request (a sleep in front of moto, which releases the GIL), which is what a
real object store costs and what concurrency hides.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

from common import PYTHON, Result, check, main, python, workdir, write

TASKS = 200
LATENCY = 0.020

# moto's WSGI app behind a per-request sleep: a remote store's round trip, simulated.
SERVER = """
import sys, time
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
delay = float(sys.argv[2])

def slow(environ, start_response):
    time.sleep(delay)
    return app(environ, start_response)

run_simple("127.0.0.1", int(sys.argv[1]), slow, threaded=True)
"""

FLOW = """
    from laminar import Flow, Layer
    from laminar.configurations.layers import ForEach, Parameter

    class RemoteFlow(Flow): ...

    @RemoteFlow.register
    class Start(Layer):
        def __call__(self) -> None:
            self.shard(items=range({tasks}))

    @RemoteFlow.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
    class Process(Layer):
        def __call__(self, start: Start) -> None:
            self.foo = start.items * 2
"""

MEASURE = """
    import json, time
    import boto3
    from laminar.store import chunks, commits
    from laminar.store.execution import Execution
    from laminar.store.datastore import Datastore
    from laminar.runtime.executor import execute
    from laminar.model.loader import load_flow

    boto3.client("s3").create_bucket(Bucket="bench")
    url = "s3://bench/store"
    commits.GROUP_TASKS = 1  # one manifest per task, as legs of one task commit
    chunks.CHUNK_ELEMENTS = 10  # many small chunks
    started = time.perf_counter()
    execute(load_flow("flow.py").ir(), Datastore(url), "e")
    run = time.perf_counter() - started

    def fresh():
        return Execution(Datastore(url), "RemoteFlow", "e")

    def timed(read):
        started = time.perf_counter()
        values = read()
        return time.perf_counter() - started, values

    expected = [2 * i for i in range({tasks})]
    join = lambda: fresh().attribute("Process", "foo", reader="b", foreach=True)
    batched, got = timed(lambda: list(join()))
    assert got == expected
    acc = join()
    single, got = timed(lambda: [acc[i] for i in range(len(acc))])
    assert got == expected
    items = lambda: fresh().attribute("Start", "items", reader="b", foreach=False)
    shard_batched, got = timed(lambda: list(items()))
    assert got == list(range({tasks}))
    acc = items()
    shard_single, got = timed(lambda: [acc[i] for i in range(len(acc))])
    assert got == list(range({tasks}))
    print(json.dumps({{"run": run, "batched": batched, "single": single,
                      "shard_batched": shard_batched, "shard_single": shard_single}}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server(latency: float = 0.0) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [PYTHON, "-c", SERVER, str(port), str(latency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(latency: float) -> dict[str, float]:
    with moto_server(latency) as endpoint, workdir("s3") as directory:
        write(directory, "flow.py", FLOW.format(tasks=TASKS))
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "FSSPEC_S3_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        found: dict[str, float] = json.loads(
            python(MEASURE.format(tasks=TASKS), directory, env).stdout
        )
        return found


def run() -> list[Result]:
    results = []
    for latency in (0.0, LATENCY):
        found = measure(latency)
        where = "S3 (moto)" if not latency else f"S3 (moto + {latency * 1e3:.0f} ms round trip)"
        join = found["single"] / found["batched"]
        shard = found["shard_single"] / found["shard_batched"]
        goal = ">= 3x" if latency else ""
        results += [
            Result(f"{where}: laminar run, {TASKS} tasks", found["run"], "s"),
            Result(f"{where}: join of {TASKS}, batched", found["batched"], "s"),
            Result(f"{where}: join of {TASKS}, one by one", found["single"], "s"),
            Result(
                f"{where}: join speed-up",
                join,
                "x",
                goal,
                check(join, 3, at_least=True) if latency else None,
            ),
            Result(f"{where}: iterate {TASKS}-element shard", found["shard_batched"], "s"),
            Result(f"{where}: same, element by element", found["shard_single"], "s"),
            Result(
                f"{where}: shard speed-up",
                shard,
                "x",
                goal,
                check(shard, 3, at_least=True) if latency else None,
            ),
        ]
    return results


if __name__ == "__main__":
    main("remote datastore (moto S3)", run())
