"""A run that fails, then resumes: task 3 of Work fails in attempt 1 only.

Each task records the attempt that computed it, so the results show which tasks a re-run
reused. ``AfterEmpty`` follows an empty fan-out and must run even while ``Work`` fails;
``Final`` comes after ``Report``, which a failure skips, and must be skipped too.
"""

import os

from laminar import Flow, ForEach, Layer, Parameter


class ResumeFlow(Flow): ...


@ResumeFlow.register
class Shard(Layer):
    def __call__(self) -> None:
        self.shard(n=[0, 1, 2, 3])


@ResumeFlow.register(foreach=ForEach(parameters=[Parameter(layer=Shard, attribute="n")]))
class Work(Layer):
    def __call__(self, shard: Shard) -> None:
        attempt = os.environ.get("GITHUB_RUN_ATTEMPT", "local")
        if attempt == "1" and shard.n == 3:
            raise RuntimeError("task 3 fails in attempt 1")
        self.result = (shard.n * 10, attempt)


@ResumeFlow.register
class Report(Layer):
    def __call__(self, work: Work) -> None:
        self.results = list(work.result)


@ResumeFlow.register
class Final(Layer):
    def __call__(self, report: Report) -> None:
        self.count = len(report.results)


@ResumeFlow.register
class Nothing(Layer):
    def __call__(self) -> None:
        self.shard(x=[])


@ResumeFlow.register(foreach=ForEach(parameters=[Parameter(layer=Nothing, attribute="x")]))
class Empty(Layer):
    def __call__(self, nothing: Nothing) -> None:
        self.y = nothing.x


@ResumeFlow.register
class AfterEmpty(Layer):
    def __call__(self, empty: Empty) -> None:
        self.count = len(list(empty.y))
