"""Flows with entry hooks, skips and Catch, shared by the local and the engine tests.

Each layer records what it saw, so a test can compare the records of every path (local,
Argo harness, Airflow, act): which layers ran, what they read, and which were skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from laminar import Catch, Flow, ForEach, Layer, Parameter
from laminar.configurations import hooks


class ConditionalFlow(Flow):
    """The original library's conditional-branching test: B's hook always skips."""


@ConditionalFlow.register
class A(Layer):
    def __call__(self) -> None:
        self.foo = "bar"


@ConditionalFlow.register
class B(Layer):
    def __call__(self, a: A) -> None:
        self.foo = a.foo

    @hooks.entry
    def failure(self) -> bool:
        return False


@ConditionalFlow.register
class C(Layer):
    def __call__(self, a: A) -> None:
        self.foo = "baz"


@ConditionalFlow.register
class D(Layer):
    def __call__(self, b: B) -> None:
        self.foo = b.foo


@ConditionalFlow.register
class E(Layer):
    def __call__(self, c: C, d: D) -> None:
        self.foo = [c.foo, d.foo] if d.state.finished else [c.foo]

    @hooks.entry
    def success(self) -> bool:
        return True


class Branches(Flow):
    """A branch on a value, a skip three layers deep, a skipped ForEach, a branch inside a
    fan-out, a mapped chain after it, Catch in a layer and in a fan-out, and joins."""


@Branches.register
class Measure(Layer):
    def __call__(self) -> None:
        self.drift = 0.7
        self.shard(items=[1, 2, 3, 4, 5])


@Branches.register
class Retrain(Layer):
    """Runs only when the data drifted."""

    def __call__(self, measure: Measure) -> None:
        self.model = f"retrained on drift {measure.drift}"

    @hooks.entry
    def drifted(self, measure: Measure) -> bool:
        return measure.drift > 0.5


@Branches.register
class Publish(Layer):
    """Never runs: the evaluation did not pass."""

    def __call__(self, retrain: Retrain) -> None:
        self.url = "https://example.com/model"

    @hooks.entry
    def passed(self, retrain: Retrain) -> bool:
        return False


@Branches.register
class Announce(Layer):
    """Skipped: after Publish (one deep)."""

    def __call__(self, publish: Publish) -> None:
        self.message = f"published at {publish.url}"


@Branches.register(foreach=ForEach(parameters=[Parameter(layer=Announce, attribute="message")]))
class Notify(Layer):
    """A ForEach skipped because what it fans out over was (two deep)."""

    def __call__(self, announce: Announce) -> None:
        self.sent = announce.message


@Branches.register
class Archive(Layer):
    """Skipped three deep."""

    def __call__(self, notify: Notify) -> None:
        self.count = len(notify.sent)


@Branches.register(foreach=ForEach(parameters=[Parameter(layer=Measure, attribute="items")]))
class Square(Layer):
    """A branch inside a fan-out: odd items only."""

    def __call__(self, measure: Measure) -> None:
        self.value = measure.items * measure.items

    @hooks.entry
    def odd(self, measure: Measure) -> bool:
        return measure.items % 2 == 1


@Branches.register(
    foreach=ForEach(parameters=[Parameter(layer=Square, attribute="value", index=None)]),
    catch=Catch(ValueError),
)
class Halve(Layer):
    """Mapped 1:1 onto Square: the tasks after skipped ones are skipped too; 9 is caught."""

    def __call__(self, square: Square) -> None:
        if square.value == 9:
            raise ValueError("nine is not welcome")
        self.half = square.value / 2


@Branches.register(catch=Catch(KeyError))
class Lookup(Layer):
    """Fails with a caught error: not finished."""

    def __call__(self, measure: Measure) -> None:
        self.found = {}["missing"]


@Branches.register
class UseLookup(Layer):
    """Skipped: Lookup did not finish."""

    def __call__(self, lookup: Lookup) -> None:
        self.seen = lookup.found


@Branches.register
class Report(Layer):
    """The join: runs whatever happened, and says what it saw."""

    def __call__(
        self,
        retrain: Retrain,
        archive: Archive,
        square: Square,
        halve: Halve,
        lookup: Lookup,
        use: UseLookup,
    ) -> None:
        self.retrained = retrain.model if retrain.state.finished else None
        self.archived = archive.state.finished
        self.squares = list(square.value)
        self.halves = list(halve.half)
        self.lookup = lookup.state.finished
        self.used = use.state.finished
        print("report", self.retrained, self.archived, self.squares, self.halves)

    @hooks.entry
    def always(self) -> bool:
        return True

    @hooks.execution
    def around(self) -> Iterator[None]:
        print("before", self.name)
        yield
        print("after", self.name)


class Shapes(Flow):
    """Shapes the other two flows do not have: a diamond after a skip, a fan-out whose tasks
    are all skipped and one whose tasks are all caught (the layers after them run and see
    empty joins), a recovery branch mapped 1:1 onto caught tasks, a grid with one cell
    skipped, and an entry hook that reads a join."""


@Shapes.register
class Gate(Layer):
    """Skipped: Left and Right after it are skipped too, Meet's own hook decides."""

    def __call__(self) -> None:
        self.open = False

    @hooks.entry
    def closed(self) -> bool:
        return False


@Shapes.register
class Left(Layer):
    def __call__(self, gate: Gate) -> None:
        self.side = "left"


@Shapes.register
class Right(Layer):
    def __call__(self, gate: Gate) -> None:
        self.side = "right"


@Shapes.register
class Meet(Layer):
    def __call__(self, left: Left, right: Right) -> None:
        self.seen = [left.state.finished, right.state.finished]

    @hooks.entry
    def anyway(self, left: Left) -> bool:
        return not left.state.finished


@Shapes.register
class Items(Layer):
    def __call__(self) -> None:
        self.shard(n=[2, 4, 6], m=["a", "b"])


@Shapes.register(foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]))
class OddOnly(Layer):
    """Every task skipped: the layer still finished, with an empty join."""

    def __call__(self, items: Items) -> None:
        self.value = items.n

    @hooks.entry
    def odd(self, items: Items) -> bool:
        return items.n % 2 == 1


@Shapes.register
class AfterNone(Layer):
    def __call__(self, odd: OddOnly) -> None:
        self.count = len(odd.value)
        self.finished = odd.state.finished


@Shapes.register(
    foreach=ForEach(parameters=[Parameter(layer=Items, attribute="n")]),
    catch=Catch(ZeroDivisionError),
)
class Fragile(Layer):
    """Task 1 (n=4) is caught: the join holds tasks 0 and 2."""

    def __call__(self, items: Items) -> None:
        self.value = items.n / (items.n - 4)


@Shapes.register
class AfterFragile(Layer):
    def __call__(self, fragile: Fragile) -> None:
        self.values = list(fragile.value)


@Shapes.register(
    foreach=ForEach(parameters=[Parameter(layer=Fragile, attribute="value", index=None)])
)
class Mend(Layer):
    """Runs only where Fragile's task was caught: in a task mapped 1:1, the view's
    ``state.finished`` is that upstream task's."""

    def __call__(self, fragile: Fragile) -> None:
        self.mended = self.index

    @hooks.entry
    def caught(self, fragile: Fragile) -> bool:
        return not fragile.state.finished


@Shapes.register(
    foreach=ForEach(
        parameters=[
            Parameter(layer=Items, attribute="n"),
            Parameter(layer=Items, attribute="m"),
        ]
    )
)
class Grid(Layer):
    def __call__(self, items: Items) -> None:
        self.cell = f"{items.n}{items.m}"

    @hooks.entry
    def not_4b(self, items: Items) -> bool:
        return (items.n, items.m) != (4, "b")


@Shapes.register
class Enough(Layer):
    def __call__(self, grid: Grid, odd: OddOnly) -> None:
        self.cells = list(grid.cell)

    @hooks.entry
    def some(self, grid: Grid) -> bool:
        return len(grid.cell) > 3


@Shapes.register
class End(Layer):
    def __call__(
        self, meet: Meet, after: AfterNone, fragile: AfterFragile, mend: Mend, enough: Enough
    ) -> None:
        self.finished = [layer.state.finished for layer in (meet, after, fragile, mend, enough)]
        self.mended = list(mend.mended)


class Early(Flow):
    """Plans made at the end of an earlier job (issue 24): a fan-out that also waits for a
    second layer, a hook that reads one of its layer's upstreams, a fan-out over a layer that
    a gate skips, a hook that reads a skipped layer, and a join whose hook reads no layer."""


@Early.register
class Source(Layer):
    def __call__(self) -> None:
        self.shard(n=[1, 2, 3])


@Early.register
class Scale(Layer):
    def __call__(self) -> None:
        self.k = 10


@Early.register(foreach=ForEach(parameters=[Parameter(layer=Source, attribute="n")]))
class Product(Layer):
    """Planned by Source's job; its tasks wait for Scale too."""

    def __call__(self, source: Source, scale: Scale) -> None:
        self.value = source.n * scale.k


@Early.register
class Big(Layer):
    """Skipped: its hook reads Scale only, so Scale's job decides it."""

    def __call__(self, scale: Scale, product: Product) -> None:
        self.total = sum(product.value) * scale.k

    @hooks.entry
    def large(self, scale: Scale) -> bool:
        return scale.k > 100


@Early.register
class Parts(Layer):
    """Skipped with Big."""

    def __call__(self, big: Big) -> None:
        self.shard(part=[big.total, big.total + 1])


@Early.register(foreach=ForEach(parameters=[Parameter(layer=Parts, attribute="part")]))
class Each(Layer):
    """Planned by Parts's job, and skipped with it by the same gate."""

    def __call__(self, parts: Parts) -> None:
        self.part = parts.part


@Early.register
class Mended(Layer):
    """Runs: its hook reads Big, which may be skipped. Big's job decides it when Big runs;
    Scale's, which skipped Big, decides it here (issue 24, GitHub)."""

    def __call__(self, big: Big) -> None:
        self.instead = not big.state.finished

    @hooks.entry
    def big_skipped(self, big: Big) -> bool:
        return not big.state.finished


@Early.register
class Summary(Layer):
    """The join: its hook reads no layer, so an earlier job that always runs decides it."""

    def __call__(self, product: Product, big: Big, each: Each) -> None:
        self.seen = [list(product.value), big.state.finished, each.state.finished]

    @hooks.entry
    def always(self) -> bool:
        return True


#: The flows of this module, by name, for engine tests (``path:Flow`` references).
FLOWS = {
    "ConditionalFlow": ConditionalFlow,
    "Branches": Branches,
    "Shapes": Shapes,
    "Early": Early,
}


def records(flow: type[Flow], execution: str, datastore: str) -> dict[str, object]:
    """What an execution recorded, to compare the paths: for each layer, how it ended (as
    ``laminar show`` says it: ``skipped: why``, ``5 tasks, 2 skipped``...) and its attributes
    as plain values."""
    from laminar.runtime.results import LayerResults, layer_summary, materialize, open_results

    results = open_results(flow, execution, datastore)
    found: dict[str, object] = {}
    for name in results.ir.order:
        layer = results[name]
        stored = LayerResults.attributes(layer)
        found[name] = {
            "ended": str(layer_summary(results.execution, results.ir.spec(name))),
            "finished": layer.state.finished,
            "attributes": {a: materialize(getattr(layer, a)) for a in stored},
        }
    return found
