"""Configuration values a hurried user or an attacker writes: each is refused on the user's own
line with a message naming the value and the fix, never accepted to fail inside a target.

Python's ``re.match(...$)`` matches before a trailing newline, so every pattern is tried with
one; numbers are tried non-finite, negative, as bools and absurdly large.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import laminar

from laminar import Layer
from laminar.configurations.layers import Container, Parameter, Retry
from laminar.errors import ConfigurationError


class Shard(Layer):
    def __call__(self) -> None:
        self.shard(foo=[1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"memory": "1Gi\n"},
            r"Container\(memory='1Gi\\n'\) must be megabytes \(2000\) or a Kubernetes quantity",
        ),
        ({"memory": "1Gi "}, r"or a Kubernetes quantity"),
        ({"cpu": "1\n"}, r"Container\(cpu='1\\n'\) must be a positive number of cores"),
        ({"cpu": "500m\n"}, r"must be a positive number of cores"),
        ({"cpu": math.inf}, r"Container\(cpu=inf\) must be a positive number"),
        ({"cpu": math.nan}, r"Container\(cpu=nan\) must be a positive number"),
        ({"env": {"K\n": "v"}}, r"Container\(env=\{'K\\n': \.\.\.\}\): variable names are"),
        ({"env": {"K=V": "v"}}, r"variable names are letters, digits and underscores"),
        ({"env": {"A": "x\x00y"}}, r"holds a NUL character or bytes that are not UTF-8"),
        ({"env": {"A": "caf\udce9"}}, r"holds a NUL character or bytes that are not UTF-8"),
        ({"image": "python:3.11\n"}, r"must be an image reference.*no spaces or control"),
        ({"image": "python:3.11 --privileged"}, r"must be an image reference"),
        ({"image": "img\x1b[31m"}, r"must be an image reference"),
        ({"image": "--help"}, r"not starting with '-'"),
        ({"image": "pythön"}, r"printable ASCII"),
        ({"image": ""}, r"must be an image reference"),
    ],
)
def test_container_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Container(**kwargs)


def test_container_accepts_the_values_it_documents() -> None:
    container = Container(
        image="ghcr.io/acme/flows@sha256:" + "a" * 64,
        cpu="500m",
        memory="4Gi",
        env={"MODE": "line one\nline two\ttab ${{ x }} $(y) ünï"},
    )
    assert container.env["MODE"] == "line one\nline two\ttab ${{ x }} $(y) ünï"
    assert Container(cpu=0.5).cpu_quantity == "0.5"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delay": math.inf}, r"Retry\(delay=inf\) must be seconds >= 0, a finite number"),
        ({"delay": -math.inf}, r"Retry\(delay=-inf\) must be seconds >= 0"),
        ({"delay": math.nan}, r"Retry\(delay=nan\) must be seconds >= 0"),
        ({"delay": -1}, r"Retry\(delay=-1\) must be seconds >= 0"),
        ({"delay": True}, r"Retry\(delay=True\) must be seconds"),
        ({"delay": "5"}, r"Retry\(delay='5'\) must be seconds"),
        ({"backoff": math.inf}, r"Retry\(backoff=inf\) must be a factor >= 1"),
        ({"backoff": math.nan}, r"Retry\(backoff=nan\) must be a factor >= 1"),
        ({"backoff": 0.5}, r"Retry\(backoff=0.5\) must be a factor >= 1"),
        ({"backoff": True}, r"Retry\(backoff=True\) must be a factor"),
        ({"attempts": True}, r"Retry\(attempts=True\) must be an integer"),
        ({"attempts": 3.0}, r"Retry\(attempts=3.0\) must be an integer"),
        ({"attempts": 0}, r"Retry\(attempts=0\) must be from 1 \(no retry\) to 1000"),
        ({"attempts": -3}, r"must be from 1"),
        ({"attempts": 10**12}, r"must be from 1 \(no retry\) to 1000"),
        ({"delay": 1e300}, r"waits more than a day"),
        ({"attempts": 1000, "delay": 1, "backoff": 2}, r"waits more than a day.*lower delay"),
        ({"attempts": 3, "delay": 1e200, "backoff": 1e200}, r"waits more than a day"),
    ],
)
def test_retry_refuses(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Retry(**kwargs)


def test_retry_accepts_finite_waits_up_to_a_day() -> None:
    retry = Retry(attempts=3, delay=5, backoff=2)
    assert [retry.wait_before(k) for k in (1, 2)] == [5.0, 10.0]
    assert Retry(attempts=2, delay=86400).wait_before(1) == 86400.0
    assert Retry(attempts=1000, delay=0, backoff=10).wait_before(999) == 0.0
    # One attempt never waits, so its delay is not bounded by the number of retries.
    assert Retry(attempts=1, delay=5, backoff=2).attempts == 1


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        ("foo\n", r"attribute='foo\\n'\): attribute must be the name of an attribute"),
        ("foo bar", r"attribute must be the name"),
        ("foo.bar", r"attribute must be the name"),
        ("", r"attribute must be the name"),
        ("_private", r"attributes starting with '_' are private to the run"),
    ],
)
def test_parameter_attribute_refused(attribute: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Parameter(layer=Shard, attribute=attribute)


FLOW_WITH_RETRY = """
from laminar import Flow, Layer
from laminar.configurations.layers import Retry


class F(Flow): ...


@F.register(retry=Retry(attempts=2, delay=float("{value}")))
class A(Layer):
    def __call__(self) -> None:
        self.x = 1
"""


@pytest.mark.parametrize("value", ["inf", "nan"])
@pytest.mark.parametrize("command", [("run",), ("graph",), ("compile", "--target", "airflow")])
def test_non_finite_retry_is_a_clear_error_on_the_command_line(
    write_flow: Callable[[str], Path], tmp_path: Path, value: str, command: tuple[str, ...]
) -> None:
    flow = write_flow(FLOW_WITH_RETRY.replace("{value}", value))
    result = laminar(command[0], str(flow), *command[1:], cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert f"Retry(delay={value}) must be seconds >= 0, a finite number" in result.stderr
    # The traceback ends on the user's line, not inside laminar's validation.
    assert f'File "{flow}", line 9' in result.stderr
    assert "configurations" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / ".laminar").exists()
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["4\n", " 4", "٤", "1_000", "+4", "4.0", "-1", "9" * 19])
@pytest.mark.parametrize(
    "args",
    [
        ("run", "{flow}", "--workers"),
        ("task", "{flow}", "--layer=A", "--execution=x", "--leg"),
        ("plan", "{flow}", "--layer=A", "--execution=x", "--max-legs"),
    ],
)
def test_whole_numbers_on_the_command_line_are_ascii_digits(
    tmp_path: Path, args: tuple[str, ...], value: str
) -> None:
    from conftest import EXAMPLES

    flow = str(EXAMPLES / "foreach.py")
    argv = [flow if a == "{flow}" else a for a in args]
    result = laminar(*argv[:-1], f"{argv[-1]}={value}", cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert f"argument {argv[-1]}: must be a whole number such as 4, not {value!r}" in (
        result.stderr
    )
    assert list(tmp_path.iterdir()) == []


def test_plan_output_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    from conftest import EXAMPLES

    flow = str(EXAMPLES / "foreach.py")
    env = {"LAMINAR_EXECUTION": "e", "LAMINAR_DATASTORE": str(tmp_path / "store")}
    laminar("task", flow, "--layer=Shard", cwd=tmp_path, env=env)
    (tmp_path / "out").mkdir()
    result = laminar("plan", flow, "--layer=Process", "--output", "out", cwd=tmp_path, env=env,
                     check=False)  # fmt: skip
    assert result.returncode == 2
    assert "laminar plan cannot write --output out: Is a directory" in result.stderr
    assert "Traceback" not in result.stderr
