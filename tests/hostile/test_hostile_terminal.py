"""What laminar prints about user strings: never a raw control code, never a traceback.

Execution ids, layer and attribute names and paths are the user's (or the orchestrator's)
text. An ANSI escape sequence in one must show escaped; bytes that are not UTF-8 on the
command line must be refused naming the option.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import EXAMPLES, laminar

from laminar.text import describe_bytes, invalid_utf8, printable, printable_lines, shell_word

ANSI = "\x1b[31mred\x1b[0m"
#: A raw control code in output: anything but newline and tab.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e]")


def test_printable_escapes_control_codes_and_keeps_text() -> None:
    assert printable("Process") == "Process"
    assert printable("ïif naïve 日本") == "ïif naïve 日本"
    assert printable(ANSI) == "\\x1b[31mred\\x1b[0m"
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x7f\x85\u2028\u202e") == "\\x7f\\x85\\u2028\\u202e"
    assert printable("caf\udce9") == "caf\\xe9"  # the byte that was not UTF-8
    assert printable_lines("one\ntwo\x1b[2J") == "one\ntwo\\x1b[2J"
    assert describe_bytes("it's\x00") == "'it\\'s\\x00'"


def test_shell_word_round_trips_through_bash(tmp_path: Path) -> None:
    for text in ["plain", "a b", "it's", ANSI, "new\nline", "back\\slash'quote\x01"]:
        word = shell_word(text)
        assert not RAW_CONTROL.search(word)
        echoed = subprocess.run(
            ["bash", "-c", f"printf '%s' {word}"], capture_output=True, text=True, check=True
        ).stdout
        assert echoed == text, word


def test_invalid_utf8() -> None:
    assert invalid_utf8("\udcff") and not invalid_utf8("ünï")


def test_ansi_execution_id_is_shown_escaped_and_resumable(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "diamond.py")
    execution = f"{ANSI}\nlaminar: done"  # also tries to forge a line of laminar's output
    result = laminar("run", flow, "--execution", execution, cwd=tmp_path)
    assert not RAW_CONTROL.search(result.stderr)
    assert "execution $'\\x1b[31mred\\x1b[0m\\nlaminar: done'" in result.stderr
    assert not any(line == "laminar: done" for line in result.stderr.splitlines())
    # The escaped id in the resume hint is a shell word that names the same execution.
    hint = result.stderr.rsplit("--execution ", 1)[1].strip()
    again = subprocess.run(
        ["bash", "-c", f"printf '%s' {hint}"], capture_output=True, text=True, check=True
    ).stdout
    assert again == execution
    shown = laminar("show", flow, cwd=tmp_path)
    assert shown.stdout.startswith("\\x1b[31mred\\x1b[0m\\nlaminar: done  succeeded  started ")
    assert shown.stdout.count("\n") == 1 and not RAW_CONTROL.search(shown.stdout)
    detail = laminar("show", flow, "--execution", execution, cwd=tmp_path)
    assert detail.stdout.startswith("DiamondFlow execution \\x1b[31mred\\x1b[0m\\nlaminar: done")
    missing = laminar("show", flow, "--execution", "nope", cwd=tmp_path, check=False)
    assert missing.returncode == 2
    assert "(recent: \\x1b[31mred\\x1b[0m\\nlaminar: done)" in missing.stderr
    assert not RAW_CONTROL.search(missing.stderr)


FLOW = """
from laminar import Flow, Layer


class F(Flow): ...


@F.register
class A(Layer):
    def __call__(self) -> None:
        setattr(self, "{name}", "{value}")
        self.ok = 1
"""


def test_attribute_names_and_values_show_escaped(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    source = FLOW.replace("{name}", "\\x1b[2Jcleared").replace("{value}", "\\x1b]0;title\\x07")
    flow = str(write_flow(source))
    laminar("run", flow, "--execution", "e1", cwd=tmp_path)
    for args in [(), ("A",)]:
        result = laminar("show", flow, *args, "--execution", "e1", cwd=tmp_path)
        assert not RAW_CONTROL.search(result.stdout), result.stdout
        assert "\\x1b[2Jcleared = '\\x1b]0;title\\x07'" in result.stdout


def test_a_user_error_message_with_control_codes_is_escaped(
    write_flow: Callable[[str], Path], tmp_path: Path
) -> None:
    source = FLOW.replace('setattr(self, "{name}", "{value}")', 'raise ValueError("\\x1b[2J")')
    flow = str(write_flow(source))
    run = laminar("run", flow, "--execution", "e1", cwd=tmp_path, check=False)
    task = laminar("task", flow, "--layer=A", "--execution", "e2", cwd=tmp_path, check=False)
    for result in (run, task):
        assert result.returncode == 1
        assert "ValueError: \\x1b[2J" in result.stderr
        assert not RAW_CONTROL.search(result.stderr)


def test_argparse_errors_escape_what_they_echo(tmp_path: Path) -> None:
    result = laminar("run", str(EXAMPLES / "diamond.py"), ANSI, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "unrecognized arguments: \\x1b[31mred\\x1b[0m" in result.stderr
    assert not RAW_CONTROL.search(result.stderr)


NOT_UTF8 = "caf\udce9"  # what Python makes of the bytes b"caf\xe9" in argv


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("run", "{flow}", "--execution", NOT_UTF8), "--execution"),
        (("run", "{flow}", f"--execution={NOT_UTF8}"), "--execution"),
        (("run", "{flow}", "--datastore", NOT_UTF8), "--datastore"),
        (("run", NOT_UTF8 + ".py"), "FLOW"),
        (("show", "{flow}", NOT_UTF8), "argument 3"),
        (("graph", "{flow}", "--format", NOT_UTF8), "--format"),
        (("compile", "{flow}", "--target", "argo", "--image", NOT_UTF8), "--image"),
        (("compile", "{flow}", "--target", "github", "-o", NOT_UTF8), "-o"),
        (("plan", "{flow}", f"--layer={NOT_UTF8}", "--execution", "x"), "--layer"),
        (("task", "{flow}", "--layer", "A", "--execution", NOT_UTF8), "--execution"),
    ],
)
def test_invalid_utf8_option_names_the_option(
    tmp_path: Path, args: tuple[str, ...], option: str
) -> None:
    flow = str(EXAMPLES / "diamond.py")
    result = laminar(*(flow if a == "{flow}" else a for a in args), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    shown = "'caf\\xe9.py'" if option == "FLOW" else "'caf\\xe9'"
    assert f"laminar: error: {option} {shown} is not valid UTF-8 text" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_invalid_utf8_in_the_environment(tmp_path: Path) -> None:
    flow = str(EXAMPLES / "diamond.py")
    env = {"LAMINAR_EXECUTION": NOT_UTF8, "LAMINAR_DATASTORE": str(tmp_path / "store")}
    result = laminar("task", flow, "--layer=A", cwd=tmp_path, env=env, check=False)
    assert result.returncode == 2
    assert "$LAMINAR_EXECUTION 'caf\\xe9' is not valid UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


class _Terminal:
    """A stream that says it is a terminal, as the live task counter needs."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None: ...

    def isatty(self) -> bool:
        return True


def test_progress_lines_and_live_counter_escape_names() -> None:
    from typing import TextIO, cast

    from laminar.runtime.progress import Progress

    terminal = _Terminal()
    progress = Progress(stream=cast(TextIO, terminal))
    progress.tasks(f"{ANSI}\rX", 1, 1, 0.0)
    progress.say(f"layer {ANSI} done\n  next line")
    # Only laminar's own codes remain: the counter's carriage return and line clear.
    assert terminal.text.startswith("\r  \\x1b[31mred\\x1b[0m\\rX: 1/1 tasks")
    assert terminal.text.endswith("\r\x1b[Klaminar: layer \\x1b[31mred\\x1b[0m done\n  next line\n")
