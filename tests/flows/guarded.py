"""Guard rails on every target: a flow timeout, layer timeouts (with and without Retry), on a
layer that runs once and on a fan-out, and a fan-out capped at two tasks at once."""

from __future__ import annotations

import datetime

from laminar import Flow, ForEach, Layer, Parameter, Retry


class Guarded(Flow, timeout=3600):
    """A run limited to an hour; each layer to its own timeout."""


@Guarded.register(timeout=90)
class Source(Layer):
    def __call__(self) -> None:
        self.shard(items=[1, 2, 3])


@Guarded.register(
    foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")], concurrency=2),
    timeout=datetime.timedelta(minutes=10),
    retry=Retry(attempts=3, delay=5, backoff=2),
)
class Fetch(Layer):
    def __call__(self, source: Source) -> None:
        self.value = source.items * 10


@Guarded.register
class Total(Layer):
    def __call__(self, fetch: Fetch) -> None:
        self.total = sum(fetch.value)
