"""What the Kubernetes-based targets (Argo, Airflow's Kubernetes operator) share about a pod's
placement: the options naming the Secret that holds the layers' secrets and the GPU resource,
and a job's resource limits with its GPUs under that name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from laminar.backends.jobs import Resources
from laminar.backends.options import option, require_pattern

DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"
#: A resource name: an optional DNS prefix, then a name (``nvidia.com/gpu``, ``amd.com/gpu``).
RESOURCE_NAME = DNS_SUBDOMAIN + r"/" + r"[a-z0-9]([-a-z0-9_.]*[a-z0-9])?"


@dataclass(frozen=True)
class KubernetesOptions:
    """Options of every target whose tasks are Kubernetes pods."""

    env_secret: str = option(
        "--env-secret",
        "the Kubernetes Secret whose keys are the layers' Container(secrets=[...]) "
        "(default: laminar-secrets)",
        default="laminar-secrets",
        metavar="SECRET",
    )
    gpu_resource: str = option(
        "--gpu-resource",
        "the resource Container(gpu=N) requests (default: nvidia.com/gpu)",
        default="nvidia.com/gpu",
        metavar="NAME",
    )

    def check_kubernetes(self) -> None:
        name = "a Kubernetes name: lowercase letters, digits, '-' or '.'"
        require_pattern(self.env_secret, "--env-secret", DNS_SUBDOMAIN, name, 253)
        require_pattern(self.gpu_resource, "--gpu-resource", RESOURCE_NAME,
                        "a resource name such as nvidia.com/gpu", 253)  # fmt: skip


def quantities(resources: Resources | None, gpu_resource: str) -> dict[str, str]:
    """A job's requests and limits (the same): cpu, memory and its GPUs under their name."""
    if resources is None:
        return {}
    found = dict(resources.items())
    if resources.gpu is not None:
        found[gpu_resource] = str(resources.gpu)
    return found


def toleration_fields(toleration: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """A toleration's keys as Python keyword names (``tolerationSeconds`` ->
    ``toleration_seconds``): Argo's spec object and ``k8s.V1Toleration`` both take them."""
    return {re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), k): v for k, v in toleration}


def kubernetes_text(value: str) -> str:
    """``value`` for a container's command or env: Kubernetes expands ``$(VAR)`` and turns
    ``$$`` into ``$`` there, so every ``$`` is doubled and the process sees ``value``."""
    return value.replace("$", "$$")
