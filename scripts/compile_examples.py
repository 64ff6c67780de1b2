"""Compile every example for every target into examples/compiled/, or check they are fresh.

    python scripts/compile_examples.py           # regenerate examples/compiled/
    python scripts/compile_examples.py --check   # exit 1 if any file is stale (CI does this)

Run from the repository root; the generated files name examples/*.py by relative path.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from laminar.backends import TARGETS
from laminar.cli.compile import compile_main

ROOT = Path(__file__).resolve().parent.parent
#: Options each target needs to compile a deployable example; the rest are defaults.
TARGET_OPTIONS: dict[str, tuple[list[str], str]] = {
    "argo": (
        ["--image", "ghcr.io/acme/flows:1.4", "--datastore", "s3://acme-flows/laminar",
         "--s3-secret", "laminar-s3"],
        "yaml",
    ),
    "airflow": (["--datastore", "s3://acme-flows/laminar"], "py"),
    "github": ([], "yml"),
}  # fmt: skip
#: Options of one example on one target: the nightly ETL catches up from a start date.
EXAMPLE_OPTIONS: dict[tuple[str, str], list[str]] = {
    ("nightly", "airflow"): ["--start-date", "2026-11-01"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    status = 0
    for example in sorted((ROOT / "examples").glob("*.py")):
        for target in sorted(TARGETS):
            options, extension = TARGET_OPTIONS[target]
            output = f"examples/compiled/{target}/{example.stem}.{extension}"
            command = [
                f"examples/{example.name}", "--target", target, *options,
                *EXAMPLE_OPTIONS.get((example.stem, target), []), "-o", output,
            ]  # fmt: skip
            if args.check:
                command.append("--check")
            status |= compile_main(command)
    return status


if __name__ == "__main__":
    sys.exit(main())
