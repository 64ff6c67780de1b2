"""Hostile strings must reach the task as data: a Container env value and the file's own path.

The act test copies this file to a name holding ``${{``, quotes and a newline, and compiles it
with option values that hold them too. ``Flaky`` fails its first attempt: GitHub has no step
retry, so passing proves the shim honours ``Retry``.
"""

import os
from pathlib import Path

from laminar import Container, Flow, ForEach, Layer, Parameter, Retry

VALUE = "${{ github.token }} \"double\" 'single' $HOME `id` }}\nsecond line ${{"


class EscapingFlow(Flow): ...


@EscapingFlow.register(container=Container(env={"LAMINAR_TEST_VALUE": VALUE}))
class Source(Layer):
    def __call__(self) -> None:
        self.value = os.environ.get("LAMINAR_TEST_VALUE", "<unset>")
        self.shard(word=["${{ a }}", "'b'", '"c"'])


@EscapingFlow.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="word")]))
class Echo(Layer):
    def __call__(self, source: Source) -> None:
        self.word = source.word + "!"


@EscapingFlow.register(retry=Retry(attempts=2, delay=0))
class Flaky(Layer):
    def __call__(self, echo: Echo) -> None:
        marker = Path(os.environ.get("RUNNER_TEMP", ".")) / "laminar-test-flaky"
        if not marker.exists():
            marker.write_text("failed once")
            raise RuntimeError("first attempt fails on purpose")
        self.words = list(echo.word)
