"""Serde protocols, as the original laminar library's docs teach them: values of registered
types are stored with the user's format instead of pickle, and read back with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from laminar import Flow, Layer
from laminar.configurations import datastores, serde
from laminar.errors import ArtifactError

CALLS: list[str] = []
datastore = datastores.Local()


@datastore.protocol(dict)
class JsonProtocol(serde.Protocol[dict[str, Any]]):
    def dumps(self, value: dict[str, Any]) -> bytes:
        CALLS.append("dumps")
        return json.dumps(value).encode()

    def loads(self, stream: bytes) -> dict[str, Any]:
        CALLS.append("loads")
        return dict(json.loads(stream))


class SerdeFlow(Flow): ...


@SerdeFlow.register
class Write(Layer):
    def __call__(self) -> None:
        self.small = {"a": 1}
        self.big = {"k": "x" * 100_000}  # over the inline size: a checked file
        self.other = [1, 2]  # no protocol: pickled


@SerdeFlow.register
class Read(Layer):
    def __call__(self, write: Write) -> None:
        self.seen = (write.small, len(write.big["k"]), write.other)


def test_registered_types_use_the_protocol(tmp_path: Path) -> None:
    CALLS.clear()
    execution = SerdeFlow(datastore=str(tmp_path))()
    assert execution.layer(Read).seen == ({"a": 1}, 100_000, [1, 2])
    assert CALLS.count("dumps") == 2 and CALLS.count("loads") >= 2
    stored = [p.read_bytes() for p in tmp_path.rglob("big.value")]
    assert stored == [json.dumps({"k": "x" * 100_000}).encode()]  # the user's format on disk


def test_a_protocol_is_a_testable_class() -> None:
    assert JsonProtocol().dumps({"a": 1}) == b'{"a": 1}'


def test_reading_without_the_protocol_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    execution = SerdeFlow(datastore=str(tmp_path))()
    monkeypatch.setattr(serde, "PROTOCOLS", {})
    from laminar.runtime import results

    monkeypatch.setattr(results.serde, "PROTOCOLS", {})
    with pytest.raises(ArtifactError, match="stored by a serde protocol for dict"):
        _ = SerdeFlow.results(execution, str(tmp_path))["Write"].small


def test_protocol_registration_is_checked() -> None:
    with pytest.raises(Exception, match="takes the types it stores"):
        serde.protocol()
    with pytest.raises(Exception, match=r"decorates serde\.Protocol subclasses"):
        serde.protocol(int)(object)  # type: ignore[type-var]
