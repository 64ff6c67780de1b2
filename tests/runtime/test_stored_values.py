"""No silent wrong values (issue 27): what a layer stored is what downstream reads, whatever
its name; a 1:1 chain sees its upstream task's own attributes; names laminar answers itself
are refused; the last assignment wins over ``shard()``."""

from __future__ import annotations

from typing import Any

import pytest

from laminar import Flow, ForEach, Layer, Parameter
from laminar.configurations import hooks
from laminar.errors import ArtifactError, LaminarError, NotFinishedError
from laminar.runtime.results import LayerResults


def _run(flow: type[Flow], name: str) -> Any:
    return flow(datastore=f"memory://stored-{name}")()


class Chain(Flow): ...


@Chain.register
class Files(Layer):
    def __call__(self) -> None:
        self.shard(path=["a.csv", "b.csv", "c.csv"])


@Chain.register(foreach=ForEach(parameters=[Parameter(layer=Files, attribute="path")]))
class Read(Layer):
    def __call__(self, files: Files) -> None:
        self.path = files.path
        self.rows = len(files.path)  # not named in a Parameter downstream
        self.label = f"read {files.path}"
        self.skipped = files.path == "b.csv"


@Chain.register(foreach=ForEach(parameters=[Parameter(layer=Read, attribute="path", index=None)]))
class Report(Layer):
    def __call__(self, read: Read) -> None:
        # Every attribute of the mapped view is that task's own, not the join of all tasks.
        self.seen = (read.path, read.rows, read.label, read.skipped, read.state.finished)
        self.upstream_index = read.index  # the task it maps onto, not 0


def test_a_1_to_1_chain_sees_every_attribute_of_its_own_upstream_task() -> None:
    execution = _run(Chain, "chain")
    assert list(execution.layer(Report).seen) == [
        ("a.csv", 5, "read a.csv", False, True),
        ("b.csv", 5, "read b.csv", True, True),
        ("c.csv", 5, "read c.csv", False, True),
    ]
    assert list(execution.layer(Report).upstream_index) == [0, 1, 2]


class Gated(Flow): ...


@Gated.register
class Numbers(Layer):
    def __call__(self) -> None:
        self.shard(n=[1, 2, 3])


@Gated.register(foreach=ForEach(parameters=[Parameter(layer=Numbers, attribute="n")]))
class Odd(Layer):
    @hooks.entry
    def odd(self, numbers: Numbers) -> bool:
        return bool(numbers.n % 2)

    def __call__(self, numbers: Numbers) -> None:
        self.n = numbers.n
        self.note = f"odd {numbers.n}"


@Gated.register(foreach=ForEach(parameters=[Parameter(layer=Odd, attribute="n", index=None)]))
class Follow(Layer):
    @hooks.entry
    def always(self) -> bool:
        return True

    def __call__(self, odd: Odd) -> None:
        if odd.state.finished:
            self.got = odd.note
        else:
            with pytest.raises(NotFinishedError, match=r"Odd did not finish \(task 1: entry hook"):
                odd.note  # noqa: B018 - the read itself is what is tested
            self.got = None


def test_a_1_to_1_view_of_a_skipped_task_says_it_did_not_finish() -> None:
    execution = _run(Gated, "gated")
    assert list(execution.layer(Follow).got) == ["odd 1", None, "odd 3"]


class Names(Flow): ...


Names.register(Numbers)


@Names.register
class Own(Layer):
    def __call__(self) -> None:
        self.name = "mine"
        self.index = 41
        self.attempt = "third"
        self.splits = "many"
        self.configuration = {"k": 1}


@Names.register(foreach=ForEach(parameters=[Parameter(layer=Numbers, attribute="n")]))
class Tasks(Layer):
    def __call__(self, numbers: Numbers) -> None:
        self.name = f"task-{numbers.n}"


@Names.register(foreach=ForEach(parameters=[Parameter(layer=Numbers, attribute="n")]))
class Never(Layer):
    @hooks.entry
    def never(self) -> bool:
        return False

    def __call__(self) -> None:
        self.name = "never"


@Names.register
class Single(Layer):
    @hooks.entry
    def never(self) -> bool:
        return False

    def __call__(self) -> None:
        self.name = "single"


@Names.register
class Reader(Layer):
    @hooks.entry
    def always(self) -> bool:
        return True

    def __call__(self, own: Own, tasks: Tasks, never: Never, single: Single) -> None:
        self.own = (own.name, own.index, own.attempt, own.splits, own.configuration)
        self.tasks = list(tasks.name)
        self.never = list(never.name)  # a join in which no task finished: empty
        with pytest.raises(NotFinishedError, match="Single did not finish"):
            single.name  # noqa: B018 - not the class's name: it did not store one
        self.single_state = single.state.finished


def test_what_a_layer_stored_is_read_whatever_its_name() -> None:
    execution = _run(Names, "names")
    reader = execution.layer(Reader)
    assert reader.own == ("mine", 41, "third", "many", {"k": 1})
    assert reader.tasks == ["task-1", "task-2", "task-3"]
    assert reader.never == []
    assert reader.single_state is False


def _flow_setting(body: str) -> type[Flow]:
    namespace: dict[str, Any] = {}

    class Refused(Flow): ...

    exec(f"def __call__(self):\n    {body}\n", namespace)
    Refused.register(type("Sets", (Layer,), {"__call__": namespace["__call__"]}))
    return Refused


@pytest.mark.parametrize("body", ["self.state = 'done'", "self.shard(state=[1, 2])"])
def test_a_name_laminar_answers_downstream_is_refused_as_an_output(body: str) -> None:
    with pytest.raises(ArtifactError, match=r"Layer Sets set self\.state, a name laminar answers"):
        _flow_setting(body)(datastore="memory://stored-state")()


class Shards(Flow): ...


@Shards.register
class Assigns(Layer):
    def __call__(self) -> None:
        self.shard(after=[1, 2])
        self.after = "assigned last"
        self.before = "assigned first"
        self.shard(before=[3, 4])
        self.shard(alias=[5, 6])
        self.copy = self.alias
        self.shard(dropped=[7])
        del self.dropped


@Shards.register
class Reads(Layer):
    def __call__(self, assigns: Assigns) -> None:
        self.after = assigns.after
        self.before = list(assigns.before)
        self.copy = list(assigns.copy)


def test_the_last_assignment_wins_over_shard_and_the_other_way_round() -> None:
    execution = _run(Shards, "shards")
    reads = execution.layer(Reads)
    assert (reads.after, reads.before, reads.copy) == ("assigned last", [3, 4], [5, 6])
    # A shard deleted before the end is not stored, as any deleted attribute.
    assert LayerResults.attributes(execution.layer(Assigns)) == ["after", "alias", "before", "copy"]


class Partial(Flow): ...


Partial.register(Numbers)


@Partial.register(foreach=ForEach(parameters=[Parameter(layer=Numbers, attribute="n")]))
class Sometimes(Layer):
    threshold = 0.5  # a class default the layer may override

    def __call__(self, numbers: Numbers) -> None:
        self.n = numbers.n
        if numbers.n == 2:  # only task 1 stores these
            self.name = "two"
            self.threshold = 0.9


@Partial.register
class Joined(Layer):
    def __call__(self, sometimes: Sometimes) -> None:
        for attribute in ("name", "threshold"):
            # Task 0 stored neither: an error naming what it stored, not the class's value.
            with pytest.raises(ArtifactError, match=rf"Sometimes never set self\.{attribute}"):
                getattr(sometimes, attribute)
        self.n = list(sometimes.n)


def test_a_join_never_answers_a_name_its_tasks_set_with_the_classs_value() -> None:
    assert _run(Partial, "partial").layer(Joined).n == [1, 2, 3]


class SetsInEntry(Layer):
    @hooks.entry
    def go(self) -> bool:
        self.prepared = 42  # lost before: __call__ runs on another instance
        return True

    def __call__(self) -> None:
        self.saw = getattr(self, "prepared", None)


class ShardsInEntry(Layer):
    @hooks.entry
    def go(self) -> bool:
        self.shard(items=[1, 2])  # wrote a chunk nobody reads, at the execution's root
        return True


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (SetsInEntry, r"Layer SetsInEntry: entry hook go set self\.prepared, which __call__"),
        (ShardsInEntry, r"Layer ShardsInEntry: self\.shard\(items=\.\.\.\) in an entry hook"),
    ],
)
def test_what_an_entry_hook_sets_is_refused_not_lost(layer: type[Layer], message: str) -> None:
    flow = type("EntrySets", (Flow,), {})
    flow.register(layer)
    with pytest.raises(LaminarError, match=message):
        flow(datastore=f"memory://entry-{layer.__name__}")()
