"""Branching: retrain only when the data drifted, publish only when the evaluation passed.

    laminar run examples/branching.py      # prints: retrained (accuracy 0.93), not published

An entry hook decides whether its layer runs; a layer after a skipped one is skipped too,
unless it has an entry hook of its own (Report, the join); ``state.finished`` tells it what ran.
"""

from laminar import Flow, Layer
from laminar.configurations import hooks


class Retraining(Flow): ...


@Retraining.register
class Measure(Layer):
    def __call__(self) -> None:
        self.drift = 0.7  # how far today's data moved from the training data


@Retraining.register
class Retrain(Layer):
    def __call__(self, measure: Measure) -> None:
        self.accuracy = 0.93

    @hooks.entry
    def drifted(self, measure: Measure) -> bool:
        return measure.drift > 0.5


@Retraining.register
class Publish(Layer):
    def __call__(self, retrain: Retrain) -> None:
        self.version = "v2"

    @hooks.entry
    def passed(self, retrain: Retrain) -> bool:
        return retrain.accuracy >= 0.95


@Retraining.register
class Announce(Layer):
    """Skipped whenever Publish is: it has no entry hook of its own."""

    def __call__(self, publish: Publish) -> None:
        print(f"announcing {publish.version}")


@Retraining.register
class Report(Layer):
    def __call__(self, retrain: Retrain, publish: Publish, announce: Announce) -> None:
        model = f"retrained (accuracy {retrain.accuracy})" if retrain.state.finished else "kept"
        shipped = f"published {publish.version}" if publish.state.finished else "not published"
        self.summary = f"{model}, {shipped}"
        print(self.summary)

    @hooks.entry
    def always(self) -> bool:
        return True


if flow := Retraining():
    flow()
