"""Checks of where a layer runs: ``Container(secrets=, gpu=, node_selector=, tolerations=,
runs_on=, queue=, pool=)``, normalised in place so that every target receives valid, sorted
values. What the container runs (image, resources, command, env) is checked in
``container.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from laminar.errors import ConfigurationError

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A Kubernetes label key (an optional DNS prefix, then a name) and label value.
_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_TOLERATION_KEYS = {"key", "operator", "value", "effect", "tolerationSeconds"}
_OPERATORS = ("Equal", "Exists")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
#: A GitHub runner label or an Airflow queue or pool: printable, no spaces, no expression braces.
_LABEL = re.compile(r"[A-Za-z0-9_.:/-]+")


def check_placement(container: Any) -> None:
    """Validate and normalise the placement fields of ``container`` (a frozen Container)."""
    _set(container, "secrets", _names(container.secrets))
    gpu = container.gpu
    if gpu is not None and (isinstance(gpu, bool) or not isinstance(gpu, int) or gpu < 1):
        raise ConfigurationError(
            f"Container(gpu={gpu!r}) must be a whole number of GPUs, 1 or more, such as gpu=1."
        )
    _set(container, "node_selector", _node_selector(container.node_selector))
    _set(container, "tolerations", tuple(_toleration(t) for t in _sequence(
        container.tolerations, "tolerations", "[{'key': 'gpu', 'operator': 'Exists'}]"
    )))  # fmt: skip
    labels = _sequence(container.runs_on, "runs_on", "['self-hosted', 'gpu']")
    for label in labels:
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            raise ConfigurationError(
                f"Container(runs_on=[{label!r}]): a runner label is letters, digits and "
                "'_.:/-', such as runs_on=['self-hosted', 'gpu']."
            )
    _set(container, "runs_on", tuple(labels))
    for name, example in (("queue", "gpu"), ("pool", "warehouse")):
        value = getattr(container, name)
        if value is not None and (not isinstance(value, str) or not _LABEL.fullmatch(value)):
            raise ConfigurationError(
                f"Container({name}={value!r}) must be an Airflow {name} name such as "
                f"{example!r}: letters, digits and '_.:/-'."
            )


def _set(container: Any, name: str, value: Any) -> None:
    object.__setattr__(container, name, value)


def _sequence(value: Any, name: str, example: str) -> tuple[Any, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ConfigurationError(f"Container({name}=...) takes a list, such as {name}={example}.")
    return tuple(value)


def _names(value: Any) -> tuple[str, ...]:
    names = _sequence(value, "secrets", "['WAREHOUSE_TOKEN']")
    for name in names:
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise ConfigurationError(
                f"Container(secrets=[{name!r}]): a secret is named like the environment "
                "variable it becomes: letters, digits and underscores, not starting with a "
                "digit, such as 'WAREHOUSE_TOKEN'."
            )
    if len(set(names)) != len(names):
        raise ConfigurationError("Container(secrets=[...]) lists a secret twice; list each once.")
    return tuple(sorted(names))


def _node_selector(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "Container(node_selector=...) takes a dict of label -> value, such as "
            "node_selector={'pool': 'gpu'}."
        )
    for key, label in value.items():
        if not isinstance(key, str) or not _LABEL_KEY.fullmatch(key) or len(key) > 316:
            raise ConfigurationError(
                f"Container(node_selector={{{key!r}: ...}}): not a Kubernetes label key "
                "(letters, digits, '-', '_', '.', an optional 'prefix/'), such as 'pool'."
            )
        if not isinstance(label, str) or not _LABEL_VALUE.fullmatch(label) or len(label) > 63:
            raise ConfigurationError(
                f"Container(node_selector={{{key!r}: {label!r}}}): not a Kubernetes label "
                "value (at most 63 letters, digits, '-', '_', '.'), such as 'gpu'."
            )
    return dict(sorted(value.items()))


def _toleration(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not set(value) <= _TOLERATION_KEYS:
        raise ConfigurationError(
            f"Container(tolerations=[{value!r}]): a toleration is a dict with keys "
            f"{', '.join(sorted(_TOLERATION_KEYS))}, such as {{'key': 'gpu', 'operator': "
            "'Exists', 'effect': 'NoSchedule'}."
        )
    found = dict(value)
    if found.get("operator", "Equal") not in _OPERATORS:
        raise ConfigurationError(
            f"Container(tolerations=[...]): operator {found['operator']!r} is one of "
            f"{', '.join(_OPERATORS)}."
        )
    if "effect" in found and found["effect"] not in _EFFECTS:
        raise ConfigurationError(
            f"Container(tolerations=[...]): effect {found['effect']!r} is one of "
            f"{', '.join(_EFFECTS)}."
        )
    for key in ("key", "value"):
        if key in found and not (
            isinstance(found[key], str) and (found[key] == "" or _LABEL_KEY.fullmatch(found[key]))
        ):
            raise ConfigurationError(
                f"Container(tolerations=[...]): {key} {found[key]!r} is not a Kubernetes label "
                f"{'key' if key == 'key' else 'value'}."
            )
    seconds = found.get("tolerationSeconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
        raise ConfigurationError(
            f"Container(tolerations=[...]): tolerationSeconds {seconds!r} is a whole number."
        )
    return dict(sorted(found.items()))
