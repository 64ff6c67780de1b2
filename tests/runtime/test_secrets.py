"""A layer's secrets locally: the declaring layer's tasks see them, no other layer does, a
missing one is named with where it comes from on each target, and no value is stored."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import ROOT, laminar

from laminar import Container
from laminar.errors import ConfigurationError

FLOW = str(ROOT / "tests" / "flows" / "placed.py")
TOKEN = "s3cr3t-Value/with+chars=="


def test_only_the_declaring_layer_sees_its_secret(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    done = laminar("run", FLOW, "--datastore", store, cwd=tmp_path, env={"WAREHOUSE_TOKEN": TOKEN})
    shown = laminar("show", FLOW, "--datastore", store, "Pull.token_digest", cwd=tmp_path)
    assert shown.stdout.strip().strip("'") == hashlib.sha256(TOKEN.encode()).hexdigest()[:12]
    assert laminar("show", FLOW, "--datastore", store, "Train.sees_token", cwd=tmp_path).stdout == (
        "False\n"
    )
    assert TOKEN not in done.stdout + done.stderr
    for path in Path(store).rglob("*"):  # the value is in no record of the execution
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_a_missing_secret_is_named_with_where_it_comes_from(tmp_path: Path) -> None:
    done = laminar(
        "run", FLOW, "--datastore", str(tmp_path / "store"), cwd=tmp_path, check=False,
        env={"WAREHOUSE_TOKEN": ""},
    )  # fmt: skip
    assert done.returncode != 0
    assert "Layer Pull needs the secret WAREHOUSE_TOKEN" in done.stderr
    assert "the Airflow Variable WAREHOUSE_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"secrets": "TOKEN"}, "takes a list"),
        ({"secrets": ["1TOKEN"]}, "named like the environment variable"),
        ({"secrets": ["A", "A"]}, "lists a secret twice"),
        ({"gpu": 0}, "whole number of GPUs"),
        ({"gpu": True}, "whole number of GPUs"),
        ({"node_selector": {"a b": "c"}}, "not a Kubernetes label key"),
        ({"node_selector": {"pool": "a b"}}, "not a Kubernetes label value"),
        ({"tolerations": [{"key": "x", "operator": "Maybe"}]}, "operator 'Maybe'"),
        ({"tolerations": [{"key": "x", "colour": "red"}]}, "a toleration is a dict with keys"),
        ({"runs_on": ["${{ github.token }}"]}, "a runner label is"),
        ({"queue": "a queue"}, "an Airflow queue name"),
        ({"pool": "{{ var }}"}, "an Airflow pool name"),
        ({"pool": 3}, "an Airflow pool name"),
    ],
)
def test_placement_is_checked_where_it_is_written(given: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace("$", r"\$")):
        Container(**given)  # type: ignore[arg-type]
