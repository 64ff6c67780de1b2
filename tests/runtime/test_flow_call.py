"""``flow(...)`` from Python: the user's own exception, and a note saying how to resume that
names the datastore the flow ran in, on every declared Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from laminar import Flow, Layer
from laminar.runtime import call


class NightlyETL(Flow): ...


@NightlyETL.register
class Extract(Layer):
    def __call__(self) -> None:
        raise KeyError("missing column")


def _notes(error: BaseException) -> list[str]:
    return list(getattr(error, "__notes__", []))


def test_the_resume_hint_names_the_flows_datastore(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    with pytest.raises(KeyError, match="missing column") as raised:
        NightlyETL(datastore=store)(execution="e1")
    hint = f"resume with NightlyETL(datastore={store!r})(execution='e1')."
    assert any(hint in note for note in _notes(raised.value)), _notes(raised.value)


def test_the_resume_hint_names_a_datastore_given_to_the_call(tmp_path: Path) -> None:
    with pytest.raises(KeyError) as raised:
        NightlyETL()(execution="e2", datastore="memory://etl")
    expected = "resume with NightlyETL(datastore='memory://etl')(execution='e2')."
    assert any(expected in note for note in _notes(raised.value))


def test_the_default_datastore_needs_no_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LAMINAR_DATASTORE", raising=False)
    with pytest.raises(KeyError) as raised:
        NightlyETL()(execution="e3")
    assert any("resume with NightlyETL()(execution='e3')." in n for n in _notes(raised.value))


def test_without_add_note_the_note_reaches_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python 3.10 has no ``add_note`` and its tracebacks print no notes: the note is printed
    on stderr and kept in ``__notes__``, as 3.11 keeps it."""
    monkeypatch.setattr(call, "NOTES", False)
    with pytest.raises(KeyError) as raised:
        NightlyETL(datastore=str(tmp_path))(execution="e4")
    err = capsys.readouterr().err
    assert "laminar: raised by Extract in execution e4; fix it, then resume with" in err
    assert f"NightlyETL(datastore={str(tmp_path)!r})(execution='e4')" in err
    assert any("raised by Extract in execution e4" in n for n in _notes(raised.value))


def test_a_note_is_added_to_existing_notes_without_add_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(call, "NOTES", False)
    error = ValueError("x")
    error.__notes__ = ["the user's own"]
    call.note(error, "laminar: where")
    assert error.__notes__ == ["the user's own", "laminar: where"]
    assert capsys.readouterr().err == "laminar: where\n"
