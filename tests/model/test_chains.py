"""Chains of flows found in a flow file's source (``.next(flow=..., linker=...)``), without
running them: what ``laminar compile`` warns of."""

from __future__ import annotations

import textwrap
from pathlib import Path

from laminar.model.chains import SHOWN, Chain, chains_in


def test_chains_are_found_with_their_line_next_flow_and_function(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_text(
        textwrap.dedent(
            """\
            from laminar import Flow, Parameters

            rows = iter([1, 2])
            first = next(rows)  # the builtin: not a chain
            gen = (x for x in rows)

            class Flow1(Flow): ...
            class Flow2(Flow): ...

            class Hooked(Flow):
                def chain(self, execution):
                    execution.next(flow=Flow2(), linker=link)

            if flow := Flow1():
                flow().next(
                    flow=Flow2(), linker=lambda e: Parameters(foo=1)
                ).next(flow2, lambda e: Parameters())
                cursor.next()  # no flow, no linker: not a chain
                other.next(linker=link)
            """
        )
    )
    assert chains_in(path) == [
        Chain(line=12, following="Flow2()", function="chain"),
        Chain(line=15, following="Flow2()"),
        Chain(line=17, following="flow2"),
        Chain(line=19, following=""),
    ]


def test_a_file_without_chains_or_that_does_not_parse_has_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("from laminar import Flow\n\nclass F(Flow): ...\n")
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert chains_in(plain) == chains_in(broken) == []


def test_the_next_flow_is_shown_on_one_line_and_shortened(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    long = "Flow2(datastore=" + "x" * 80 + ")"
    path.write_text(
        f"a.next(flow=Flow2(\n    datastore='s3://b',\n), linker=f)\nb.next({long}, f)\n"
    )
    first, second = chains_in(path)
    assert first == Chain(line=1, following="Flow2( datastore='s3://b', )")
    assert second.following == long[:57] + "..." and len(second.following) == SHOWN
