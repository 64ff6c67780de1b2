"""Every example a user is shown runs as shown: the examples of every ``--help`` text, and the
marked code blocks of the README and docs/, run against a copy of the repository's examples.

A code block is marked by an HTML comment on the line before its fence (invisible on GitHub):

- ``<!-- test: run -->`` before a shell block: each command (``\\`` continues a line, ``#``
  lines are comments) runs with bash, in order, and must exit 0;
- ``<!-- test: python -->`` before a Python block: saved as ``flow.py`` (``file=NAME.py``:
  as that) and run with ``python flow.py``; ``<!-- test: python continues -->`` appends the
  block to the previous Python block of the page first (a page that builds a flow step by
  step);
- ``<!-- test: pytest -->``: saved as ``test_page.py`` and run with pytest; every test passes;
- ``<!-- test: stdout -->`` before a plain block: what the previous block printed, exactly;
- ``<!-- test: spans -->`` before a table or paragraph: every inline code span in it that
  starts with ``laminar `` runs as a command;
- ``<!-- test: fresh-clone -->`` (the README's first commands): each block one shell script,
  on a fresh copy of the repository with a new venv; slow, so an ``e2e`` test.

``flow=examples/NAME.py`` after the kind (``<!-- test: run flow=examples/grid.py -->``) copies
that example to ``flow.py`` first, for pages whose commands say ``flow.py``. Each page (and each
``--help`` text) runs in its own directory holding a copy of ``examples/``, blocks in order, so
a later block sees what an earlier one ran.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!-- test: (\w[\w-]*)((?: [\w=./-]+)*) -->")
SPAN = re.compile(r"`(laminar [^`]+)`")
#: ``laminar ...`` and ``NAME=value laminar ...`` lines of a --help text (after two spaces)
HELP_LINE = re.compile(r"  ((?:[A-Z_]+=\S+ )*(?:laminar|python) .*)")


@dataclass
class Block:
    page: str
    line: int
    kind: str
    options: list[str]
    text: str

    def where(self) -> str:
        return f"{self.page}:{self.line} ({self.kind})"


def marked_blocks(path: Path) -> list[Block]:
    """The marked blocks of a Markdown page, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    for number, line in enumerate(lines):
        found = MARKER.fullmatch(line.strip())
        if not found:
            continue
        kind, options = found[1], found[2].split()
        body: list[str] = []
        if kind == "spans":  # the table or paragraph after the marker
            for text in lines[number + 1 :]:
                if not text.strip():
                    break
                body.append(text)
        else:
            fence = lines[number + 1].strip()
            assert fence.startswith("```"), f"{path.name}:{number + 1}: a marker before a fence"
            for text in lines[number + 2 :]:
                if text.strip() == "```":
                    break
                body.append(text)
        indent = min((len(t) - len(t.lstrip()) for t in body if t.strip()), default=0)
        text = "\n".join(t[indent:] for t in body) + "\n"
        blocks.append(Block(path.name, number + 1, kind, options, text))
    return blocks


def commands(text: str) -> list[str]:
    """Shell commands of a block: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", "", text)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def help_commands(text: str) -> list[str]:
    """The examples of a --help text: two spaces end a command and start its comment."""
    joined = re.sub(r"\\\n\s*", "", text)
    found = [HELP_LINE.fullmatch(line) for line in joined.splitlines()]
    return [re.split(r"\s{2,}", m[1])[0] for m in found if m]


def workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A directory holding a copy of examples/, and the environment of a user's shell there:
    the venv's ``laminar`` and ``python`` first on PATH, no datastore set."""
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("compiled"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINAR_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["GITHUB_OUTPUT"] = str(tmp_path / "github_output")
    return tmp_path, env


def shell(command: str, cwd: Path, env: dict[str, str], where: str) -> str:
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{command}"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, (
        f"{where}: `{command}` exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def run_block(block: Block, previous: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one block; returns what it printed. ``previous``: the page's Python so far."""
    for option in block.options:
        if option.startswith("flow="):
            shutil.copy(cwd / option[5:], cwd / "flow.py")
    if block.kind in ("run", "spans"):
        lines = commands(block.text) if block.kind == "run" else SPAN.findall(block.text)
        assert lines, f"{block.where()}: nothing to run"
        return "".join(shell(line, cwd, env, block.where()) for line in lines)
    if block.kind == "python":
        source = "\n".join([*previous, block.text]) if "continues" in block.options else block.text
        previous[:] = [source]
        name = next((o[5:] for o in block.options if o.startswith("file=")), "flow.py")
        (cwd / name).write_text(source)
        return shell(f"python {name}", cwd, env, block.where())
    if block.kind == "pytest":
        (cwd / "test_page.py").write_text(block.text)
        out = shell("python -m pytest -q -p no:cacheprovider test_page.py", cwd, env, block.where())
        assert re.search(r"\b[1-9]\d* passed", out), f"{block.where()}: no test ran\n{out}"
        return out
    raise AssertionError(f"{block.where()}: unknown marker kind {block.kind!r}")


def run_page(blocks: list[Block], cwd: Path, env: dict[str, str]) -> None:
    previous: list[str] = []
    printed: str | None = ""
    for block in blocks:
        if block.kind == "fresh-clone":  # test_the_readme_on_a_fresh_copy runs those
            printed = None
        elif block.kind == "stdout":
            if printed is not None:
                assert printed == block.text, f"{block.where()}: the block above printed\n{printed}"
        else:
            printed = run_block(block, previous, cwd, env)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_marked_blocks_of_the_docs_run_as_written(page: Path, tmp_path: Path) -> None:
    cwd, env = workspace(tmp_path)
    run_page(marked_blocks(page), cwd, env)


def test_the_pages_that_show_code_have_marked_blocks() -> None:
    """A page of runnable examples keeps them checked (a marker lost in an edit fails here)."""
    counts = {page.name: len(marked_blocks(page)) for page in PAGES}
    least = {"README.md": 8, "coming-from.md": 3, "airflow.md": 2, "github.md": 4, "argo.md": 1}
    for name, count in least.items():
        assert counts.get(name, 0) >= count, (name, counts)


HELPS = [
    ["laminar", "--help"],
    *(["laminar", command, "--help"] for command in ("run", "graph", "show", "plan", "task")),
    ["laminar", "compile", "--help"],
    *(["laminar", "compile", "--target", t, "--help"] for t in ("argo", "airflow", "github")),
    ["python", "examples/grid.py", "--help"],
]


@pytest.mark.parametrize("help_command", HELPS, ids=" ".join)
def test_every_help_example_runs_as_shown(help_command: list[str], tmp_path: Path) -> None:
    cwd, env = workspace(tmp_path)
    text = shell(" ".join(help_command), cwd, env, " ".join(help_command))
    examples = help_commands(text.split("examples:\n", 1)[-1])
    assert examples, f"{' '.join(help_command)} shows no examples"
    for command in examples:
        shell(command, cwd, env, f"an example of {' '.join(help_command)}")


def test_help_examples_are_found_as_a_reader_sees_them() -> None:
    text = (
        "examples:\n  laminar run examples/grid.py        run it\n"
        "  LAMINAR_LEG=3 laminar task f.py --layer=P\n"
        "  laminar compile f.py --target argo \\\n      --image i   an image\n"
        "Running again resumes.\n"
    )
    assert help_commands(text) == [
        "laminar run examples/grid.py",
        "LAMINAR_LEG=3 laminar task f.py --layer=P",
        "laminar compile f.py --target argo --image i",
    ]


@pytest.mark.e2e
def test_the_readme_on_a_fresh_copy(tmp_path: Path) -> None:
    """The README's first commands (``<!-- test: fresh-clone -->``, each block one shell
    script) on a fresh copy of the repository: a new venv, ``pip install .``, the first run
    printing the grid the README shows, then the activated venv's bare ``laminar``. Slow (a
    real install), so it runs with the engine tests."""
    blocks = marked_blocks(ROOT / "README.md")
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():  # laminar/backends -> ../backends
            (tmp_path / name).symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy(source, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMINAR_", "VIRTUAL_ENV"))}
    ran = 0
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block.kind == "fresh-clone":
            printed = shell(block.text, tmp_path, env, block.where())
            ran += 1
            if after is not None and after.kind == "stdout":
                # pip prints first; the README says what the command ends with
                assert printed.endswith(after.text), f"{block.where()} printed\n{printed}"
    assert ran >= 2


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page: its headings' slugs, and ``<a id="...">``."""
    text = path.read_text(encoding="utf-8")
    found = set(re.findall(r'<a id="([^"]+)">', text))
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", [*PAGES, ROOT / "DEVELOPERS.md"], ids=lambda p: p.name)
def test_relative_links_reach_a_file_and_heading(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https://, mailto:
        name, _, anchor = target.partition("#")
        linked = (page.parent / name).resolve() if name else page
        assert linked.exists(), f"{page.name}: link to {target}: no such file"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: link to {target}: no such heading"
