"""Target limits are checked at compile time, not discovered at run time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from conftest import laminar


def chain(length: int) -> str:
    lines = ["from laminar import Flow, Layer", "", "class Chain(Flow): ...", ""]
    for i in range(length):
        argument = f"up: L{i - 1}" if i else ""
        value = "up.v + 1" if i else "0"
        lines += [
            "@Chain.register",
            f"class L{i}(Layer):",
            f"    def __call__(self{', ' if argument else ''}{argument}) -> None:",
            f"        self.v = {value}",
            "",
        ]
    return "\n".join(lines)


def test_github_workflow_over_500_kb_is_refused(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    flow = write_flow(chain(300))
    out = tmp_path / "chain.yml"
    result = laminar(
        "compile", str(flow), "--target", "github", "-o", str(out), cwd=tmp_path, check=False
    )
    assert result.returncode == 2
    assert "over GitHub's 500 KB limit for a workflow file" in result.stderr
    assert "remote --datastore" in result.stderr
    assert not out.exists()  # nothing half-written


def test_long_chain_grows_linearly_on_github(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    sizes = []
    for length in (40, 80):
        flow = write_flow(chain(length), f"chain{length}.py")
        text = laminar("compile", str(flow), "--target", "github", cwd=tmp_path).stdout
        sizes.append(len(text))
        jobs = yaml.safe_load(text)["jobs"]
        last = jobs[f"L{length - 1}"]
        patterns = [s["with"]["pattern"] for s in last["steps"] if "download" in str(s.get("uses"))]
        # The last job needs every ancestor's data: past a few dozen it downloads them all.
        assert patterns == ["laminar.*"]
        assert jobs["L3"]["steps"] and any(
            s.get("with", {}).get("pattern") == "laminar.{L0,L1,L2,L3}.*"
            for s in jobs["L3"]["steps"]
        )
    assert sizes[1] < 2.2 * sizes[0]
