"""What a local run shows on stderr: a line per layer, and a live task counter on a terminal.

Layers print to stdout; laminar's own messages go to stderr so they never mix with results.
Names in them are the user's (layer classes, execution ids) and are shown escaped, so an ANSI
sequence or a carriage return in a name never reaches the terminal (see ``laminar.text``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from laminar.text import printable, printable_lines


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = bool(getattr(self.stream, "isatty", lambda: False)()) and not quiet
        self._last = 0.0
        self._shown = False

    def say(self, message: str) -> None:
        if not self.quiet:
            self._clear()
            print(f"laminar: {printable_lines(message)}", file=self.stream, flush=True)

    def error(self, message: str) -> None:
        """An error: shown even when quiet, since it says why the run stopped."""
        self._clear()
        print(f"laminar: error: {printable_lines(message)}", file=self.stream, flush=True)

    def failure(self, user_traceback: str, message: str) -> None:
        """A failed task the run goes on after (``--keep-going``): its traceback and error."""
        self._clear()
        print(printable_lines(user_traceback), file=self.stream, end="", flush=True)
        self.error(message)

    def tasks(self, layer: str, done: int, total: int, started: float) -> None:
        """Redraw ``layer: done/total`` at most ten times a second, on terminals only."""
        now = time.monotonic()
        if not self.live or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        rate = done / (now - started) if now > started else 0.0
        percent = 100.0 * done / total if total else 100.0
        text = f"\r  {printable(layer)}: {done}/{total} tasks ({percent:.0f}%, {rate:.0f}/s)"
        self.stream.write(text)
        self.stream.flush()
        self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\033[K")
            self._shown = False
