"""``laminar compile --target argo`` options, validated against Argo's and Kubernetes' rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from laminar.backends.checks import checked
from laminar.backends.kubernetes import KubernetesOptions
from laminar.backends.options import (
    option,
    require_choice,
    require_pattern,
    require_positive,
    require_text,
    valid_cron,
)
from laminar.contract import check_datastore_url
from laminar.errors import CompileError

KINDS = {
    "workflow": "Workflow",
    "workflow-template": "WorkflowTemplate",
    "cron-workflow": "CronWorkflow",
}
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
DEFAULT_MOUNT = "/mnt/laminar"
#: metadata.name limits: a Workflow's generateName prefix (Kubernetes appends 5 characters
#: to at most 58), a CronWorkflow (Argo appends an 11-character timestamp), a template's
#: name (copied into a 63-character label).
NAME_LIMITS = {"workflow": 57, "workflow-template": 63, "cron-workflow": 52}

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"
LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_K8S_NAME = (
    "a Kubernetes name: lowercase letters, digits and '-'{}, starting and ending alphanumeric"
)


@dataclass(frozen=True)
class ArgoOptions(KubernetesOptions):
    kind: str = option(
        "--kind",
        "the resource to generate (default: workflow)",
        default="workflow",
        choices=sorted(KINDS),
    )
    schedule: tuple[str, ...] = option(
        "--schedule", "cron schedule of a cron-workflow (repeatable)", metavar="CRON", repeat=True
    )
    name: str | None = option(
        "--name",
        "metadata.name (generateName prefix of a workflow); default: the flow's name in kebab case",
    )
    namespace: str | None = option("--namespace", "metadata.namespace")
    service_account: str | None = option(
        "--service-account", "the pods' Kubernetes service account"
    )
    parallelism: int | None = option(
        "--parallelism", "at most N pods at once", kind=int, metavar="N"
    )
    image_pull_policy: str | None = option(
        "--image-pull-policy", "the containers' imagePullPolicy", choices=PULL_POLICIES
    )
    label: tuple[str, ...] = option(
        "--label",
        "label of the resource and its workflows (repeatable)",
        metavar="KEY=VALUE",
        repeat=True,
    )
    s3_secret: str | None = option(
        "--s3-secret",
        "Kubernetes secret with keys "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (default: the "
        "pods' own identity)",
        metavar="SECRET",
    )
    s3_endpoint: str | None = option(
        "--s3-endpoint", "endpoint of an S3-compatible store", metavar="URL"
    )
    signing_key_secret: str | None = option(
        "--signing-key-secret",
        "Kubernetes secret with key LAMINAR_SIGNING_KEY: every pod signs and checks the "
        "datastore's objects with it",
        metavar="SECRET",
    )
    volume_claim: str | None = option(
        "--volume-claim", "PersistentVolumeClaim holding a file:// datastore", metavar="PVC"
    )
    mount_path: str = option(
        "--mount-path",
        f"where --volume-claim is mounted (default: {DEFAULT_MOUNT})",
        default=DEFAULT_MOUNT,
        metavar="PATH",
    )
    max_legs: int | None = option("--max-legs", "at most N pods per ForEach layer, each "
                                  "running a batch of tasks (default: one pod per task)",
                                  kind=int, metavar="N")  # fmt: skip

    def __post_init__(self) -> None:
        self.check_kubernetes()
        require_choice(self.kind, "--kind", sorted(KINDS))
        if self.schedule and self.kind != "cron-workflow":
            raise CompileError("--schedule only applies to --kind cron-workflow.")
        for cron in self.schedule:
            valid_cron(cron, "--schedule")
        if self.name is not None:
            limit = NAME_LIMITS[self.kind]
            require_pattern(self.name, "--name", DNS_LABEL, f"a {self.kind} name: " +
                            _K8S_NAME.format(""), limit)  # fmt: skip
        require_pattern(self.namespace, "--namespace", DNS_LABEL, _K8S_NAME.format(""), 63)
        for flag, value in (
            ("--service-account", self.service_account),
            ("--s3-secret", self.s3_secret),
            ("--volume-claim", self.volume_claim),
            ("--signing-key-secret", self.signing_key_secret),
        ):
            require_pattern(value, flag, DNS_SUBDOMAIN, _K8S_NAME.format(" or '.'"), 253)
        require_positive(self.parallelism, "--parallelism")
        require_positive(self.max_legs, "--max-legs")
        require_choice(self.image_pull_policy, "--image-pull-policy", PULL_POLICIES)
        require_text(self.s3_endpoint, "--s3-endpoint")
        if self.s3_endpoint is not None:
            checked(check_datastore_url, self.s3_endpoint, "--s3-endpoint")
        require_pattern(self.mount_path, "--mount-path", r"/[^{}\s]*", "an absolute path "
                        "without spaces or braces")  # fmt: skip
        for item in self.label:
            label(item)

    def labels(self) -> dict[str, str]:
        found = {"app.kubernetes.io/managed-by": "laminar"}
        found.update(label(item) for item in self.label)
        return dict(sorted(found.items()))


def label(item: str) -> tuple[str, str]:
    """``KEY=VALUE`` as a valid Kubernetes label, or a ``CompileError`` saying what is."""
    key, sep, value = str(item).partition("=")
    prefix, _, name = key.rpartition("/")
    valid = (
        sep
        and len(name) <= 63
        and re.fullmatch(LABEL_NAME, name)
        and (not prefix or (len(prefix) <= 253 and re.fullmatch(DNS_SUBDOMAIN, prefix)))
        and (value == "" or (len(value) <= 63 and re.fullmatch(LABEL_NAME, value)))
    )
    if not valid:
        raise CompileError(
            f"--label {item!r} is not a Kubernetes label: KEY=VALUE, where VALUE is at "
            "most 63 letters, digits, '-', '_' or '.' (starting and ending alphanumeric) "
            "and KEY is the same with an optional DNS prefix/."
        )
    return key, value
