"""The committed examples/compiled/ files are what the compiler generates today."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_compiled_examples_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/compile_examples.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        f"stale compiled examples; run: python scripts/compile_examples.py\n{result.stderr}"
    )
    assert result.stderr.count("is up to date") == len(list(ROOT.glob("examples/*.py"))) * 3
