"""A ForEach task fails on its first attempt and succeeds on the retry Airflow makes.

The first attempt of task 1 leaves a marker in $LAMINAR_TEST_MARKERS and raises; the retry
finds the marker and succeeds. Retry(attempts=2) becomes retries=1 on Airflow.
"""

import os

from laminar import Flow, ForEach, Layer, Parameter, Retry


class RetryOnceFlow(Flow): ...


@RetryOnceFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1, 2, 3])


@RetryOnceFlow.register(
    foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="foo")]),
    retry=Retry(attempts=2, delay=1, backoff=2),
)
class Flaky(Layer):
    def __call__(self, shard: Shard) -> None:
        marker = os.path.join(os.environ["LAMINAR_TEST_MARKERS"], f"flaky-{self.index}")
        if self.index == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("failing once on purpose")
        self.value = shard.foo * 100
        self.tried = self.attempt  # Airflow's try number: 2 for the task it retried


@RetryOnceFlow.register
class Total(Layer):
    def __call__(self, flaky: Flaky) -> None:
        self.total = sum(flaky.value)
