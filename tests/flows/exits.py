"""Exit hooks: once per run, after success or failure, with the failed tasks listed.

The hook writes one JSON line per call to $LAMINAR_TEST_MARKERS/exit-<execution> (when set)
and prints it, so every engine's test can count the calls and read what the hook was told.
"""

from __future__ import annotations

import json
import os

from laminar import Flow, ForEach, Layer, Parameter
from laminar.configurations import hooks


def told(execution: object) -> None:
    line = json.dumps(
        {
            "succeeded": execution.succeeded,  # type: ignore[attr-defined]
            "failures": [
                [f.layer, f.index, f.error, f.attempts]
                for f in execution.failures  # type: ignore[attr-defined]
            ],
        }
    )
    print(f"exit hook: {line}")
    folder = os.environ.get("LAMINAR_TEST_MARKERS")
    if folder:
        with open(os.path.join(folder, f"exit-{execution}"), "a") as log:
            log.write(line + "\n")


class Alerting(Flow):
    """Succeeds; its exit hook is told so."""

    @hooks.exit
    def notify(self, execution: object) -> None:
        told(execution)


@Alerting.register
class Source(Layer):
    def __call__(self) -> None:
        self.shard(items=[1, 2, 3])


@Alerting.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="items")]))
class Work(Layer):
    def __call__(self, source: Source) -> None:
        self.value = source.items * 10


class AlertingFails(Flow):
    """One task of a fan-out fails; the exit hook is told which."""

    @hooks.exit
    def notify(self, execution: object) -> None:
        told(execution)


@AlertingFails.register
class Start(Layer):
    def __call__(self) -> None:
        self.shard(items=[1, 2, 3])


@AlertingFails.register(foreach=ForEach(parameters=[Parameter(layer=Start, attribute="items")]))
class Breaks(Layer):
    def __call__(self, start: Start) -> None:
        if start.items == 2:
            raise ValueError("item 2 is broken")
        self.value = start.items


@AlertingFails.register
class After(Layer):
    def __call__(self, breaks: Breaks) -> None:
        self.total = sum(breaks.value)
