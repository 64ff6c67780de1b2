"""A local executor for the Argo Workflows that laminar generates (no Kubernetes needed).

Usage in a test::

    run = run_workflow(yaml_text, tmp_path, secrets={"s3": {"key": "v"}}, env={"PATH": path})
    assert run.phase == "Succeeded", run.describe()
    assert run["fan"].phase == "Skipped"
    run["plan"].outputs["count"]; run["work"].children[0].attempts[0].stdout

Supported, with Argo's semantics: the entrypoint's DAG (nested DAG templates too);
`dependencies`, `depends` (`&&`, `||`, `!`, `.Succeeded/.Failed/.Errored/.Skipped/.Omitted/
.AnySucceeded/.AllFailed`; a bare name means Succeeded || Skipped || Daemoned); failFast;
`continueOn.failed`; `withParam`, `withItems`, `withSequence` (`count`, `start`/`end`,
`format`) with `{{item}}`/`{{item.key}}`; an empty expansion is Skipped, so dependants that
use `dependencies:` still run; `when` (see conditions.py: govaluate's `==`, `!=`, `&&`,
`||`, parentheses, numbers, booleans, strings; false: Skipped, and dependants still run;
reading an output of a Skipped task raises `SkippedOutputError`, see dag.py); aggregated
outputs of a fan-out (a JSON list); parameters (`inputs.parameters`,
`workflow.name/uid/namespace/parameters.*`, `tasks.T.outputs.*`, simple `{{=...}}`
expressions); container templates as local processes (see pods.py for env, secrets and path
mapping); `retryStrategy` (see retry.py; delays are recorded and slept for `backoff_scale`
times their length). Tasks run one at a time in a topological order (list order breaks
ties); a fan-out's children may run `concurrency` at a time.
Enforced: a template's activeDeadlineSeconds (the pod is killed, as Argo does).
Ignored: images, resources, the workflow's activeDeadlineSeconds, timeouts, pod metadata,
scheduling.
Anything else that changes execution (script/resource/steps/suspend templates,
lifecycle hooks, templateRef, memoize, sidecars...) raises NotImplementedError.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import pods, templating
from .dag import Dag
from .nodes import ERROR, SUCCEEDED, Node, WorkflowRun
from .pods import Attempt, PodSettings
from .retry import RetryPolicy

_UNSUPPORTED_TEMPLATE = ("memoize", "daemon", "sidecars", "initContainers", "hooks", "failFast")
_UNSUPPORTED_SPEC = ("hooks", "templateDefaults", "workflowTemplateRef", "retryStrategy")


class ArgoHarness:
    """Runs Workflows on this machine; one instance may run several (e.g. a resubmission)."""

    def __init__(
        self,
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
        config_maps: Mapping[str, Mapping[str, str]] | None = None,
        path_map: Mapping[str, str] | None = None,
        namespace: str = "argo",
        backoff_scale: float = 0.0,
        concurrency: int = 1,
        timeout: float = 600.0,
        prepare_attempt: Callable[[Attempt], None] | None = None,
        image_workdir: Path | None = None,
    ) -> None:
        """`env` is the image's environment (default: PATH and LANG of this process, HOME in
        `workdir`); the test process's other variables do not leak into tasks.
        `path_map` maps container path prefixes to host paths (e.g. {"/app": examples_dir}).
        `image_workdir` is the image's WORKDIR: the cwd of containers without `workingDir`
        (default: a fresh directory per attempt). `prepare_attempt(attempt)` is called before
        each process starts and may edit `attempt.argv` / `attempt.env` (fault injection).
        """
        workdir.mkdir(parents=True, exist_ok=True)
        base_env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"}
        base_env["HOME"] = str(workdir / "home")
        (workdir / "home").mkdir(exist_ok=True)
        base_env.update(env or {})
        self.settings = PodSettings(
            workdir=workdir,
            base_env=base_env,
            secrets=secrets or {},
            config_maps=config_maps or {},
            path_map=path_map or {},
            namespace=namespace,
            timeout=timeout,
            prepare_attempt=prepare_attempt,
            image_workdir=image_workdir,
        )
        self.backoff_scale = backoff_scale
        self.concurrency = concurrency

    def run(
        self,
        doc: Mapping[str, Any] | str,
        *,
        parameters: Mapping[str, str] | None = None,
        name: str | None = None,
        uid: str | None = None,
        scheduled_time: str = "2026-01-01T00:00:00Z",
    ) -> WorkflowRun:
        """Run a Workflow (or a WorkflowTemplate / CronWorkflow, as if submitted from it)."""
        resource: dict[str, Any] = yaml.safe_load(doc) if isinstance(doc, str) else dict(doc)
        kind = resource.get("kind")
        spec = resource["spec"]["workflowSpec"] if kind == "CronWorkflow" else resource["spec"]
        meta = resource.get("metadata", {})
        name = name or meta.get("name") or (meta.get("generateName", "workflow-") + "h4rn5")
        uid = uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"argo-harness/{name}"))
        for key in _UNSUPPORTED_SPEC:
            if key in spec:
                raise NotImplementedError(f"spec.{key} is not supported by the harness")
        scope = self._global_scope(resource, spec, name, uid, parameters or {})
        if "workflow.scheduledTime" in scope:  # a CronWorkflow's run, scheduled then
            scope["workflow.scheduledTime"] = scheduled_time
        run = Run(self, spec, scope, name)
        node = run.template(spec["entrypoint"], {}, name, task=name)
        nodes = {c.task: c for c in node.children}
        if "onExit" in spec:
            # As Argo: the exit handler runs once the workflow ends, whatever happened, with
            # {{workflow.status}}; a failing handler fails the workflow.
            run.scope["workflow.status"] = "Succeeded" if node.phase == SUCCEEDED else "Failed"
            handler = run.template(spec["onExit"], {}, f"{name}.onExit", task="onExit")
            nodes["onExit"] = handler
            if handler.phase != SUCCEEDED and node.phase == SUCCEEDED:
                node.phase, node.message = handler.phase, "the exit handler failed"
        return WorkflowRun(name, uid, node.phase, node.message, nodes)

    def _global_scope(
        self,
        resource: dict[str, Any],
        spec: dict[str, Any],
        name: str,
        uid: str,
        overrides: Mapping[str, str],
    ) -> dict[str, Any]:
        meta = resource.get("metadata", {})
        scope: dict[str, Any] = {
            "workflow.name": name,
            "workflow.uid": uid,
            "workflow.namespace": self.settings.namespace,
            "workflow.serviceAccountName": spec.get("serviceAccountName", "default"),
            "workflow.mainEntrypoint": spec["entrypoint"],
            "workflow.creationTimestamp": "2026-01-01T00:00:00Z",
            "workflow.priority": "0",
            "workflow.duration": "0",
        }
        if resource.get("kind") == "CronWorkflow":
            scope["workflow.scheduledTime"] = "2026-01-01T00:00:00Z"
        for key, value in (meta.get("labels") or {}).items():
            scope[f"workflow.labels.{key}"] = value
        for key, value in (meta.get("annotations") or {}).items():
            scope[f"workflow.annotations.{key}"] = value
        declared = spec.get("arguments", {}).get("parameters", [])
        unknown = set(overrides) - {p["name"] for p in declared}
        if unknown:
            raise ValueError(f"parameters {sorted(unknown)} are not in spec.arguments")
        for param in declared:
            value = overrides.get(param["name"], param.get("value", param.get("default")))
            if value is None:
                raise ValueError(f"workflow parameter {param['name']!r} has no value")
            scope[f"workflow.parameters.{param['name']}"] = str(value)
        return scope


def run_workflow(doc: Mapping[str, Any] | str, workdir: Path, **options: Any) -> WorkflowRun:
    """One-shot form: `ArgoHarness(workdir, **options).run(doc)`; `parameters=` goes to run."""
    parameters = options.pop("parameters", None)
    return ArgoHarness(workdir, **options).run(doc, parameters=parameters)


class Run:
    """State of one workflow run: its templates and global parameters."""

    def __init__(
        self, harness: ArgoHarness, spec: dict[str, Any], scope: dict[str, Any], name: str
    ):
        self.harness = harness
        self.spec = spec
        self.scope = scope
        self.templates = {t["name"]: t for t in spec["templates"]}
        self.parallelism = spec.get("parallelism")

    def template(self, name: str, args: Mapping[str, str], node_name: str, task: str) -> Node:
        template = self.templates[name]
        node = Node(node_name, task, name)
        kinds = [k for k in ("container", "dag") if k in template]
        for key in (*_UNSUPPORTED_TEMPLATE, *pods_unsupported(template)):
            if key in template:
                raise NotImplementedError(f"template {name!r}: {key!r} is not supported")
        scope = dict(self.scope)
        scope["node.name"] = node_name
        for param in template.get("inputs", {}).get("parameters", []):
            value = args.get(param["name"], param.get("default", param.get("value")))
            if value is None:
                node.phase, node.message = ERROR, f"input parameter {param['name']!r} not supplied"
                return node
            scope[f"inputs.parameters.{param['name']}"] = str(value)
        if kinds == ["dag"]:
            if "retryStrategy" in template:
                raise NotImplementedError(f"template {name!r}: retryStrategy on a DAG template")
            Dag(self, template, scope, node).execute()
        elif kinds == ["container"]:
            self._container(template, scope, node)
        return node

    def _container(self, template: dict[str, Any], scope: dict[str, Any], node: Node) -> None:
        policy = RetryPolicy(template.get("retryStrategy"), scope)
        delay = 0.0
        while True:
            number = len(node.attempts)
            attempt_scope = {**scope, "retries": str(number)}
            try:
                attempt, rewrite, outputs = pods.prepare(
                    template, self.spec, attempt_scope, self.harness.settings, node.name, number
                )
            except (LookupError, templating.UnresolvedError) as exc:
                node.phase, node.message = ERROR, str(exc)
                return
            attempt.delay = delay
            node.attempts.append(attempt)
            pods.run_attempt(attempt, self.harness.settings)
            if attempt.phase == SUCCEEDED:
                values = pods.read_outputs(attempt, outputs, rewrite)
                if values is not None:
                    node.phase, node.outputs = SUCCEEDED, values
                    return
            next_delay = policy.next_delay(
                len(node.attempts), attempt.phase, attempt.exit_code, attempt.message
            )
            if next_delay is None:
                node.phase, node.message = attempt.phase, attempt.message
                return
            delay = next_delay
            time.sleep(delay * self.harness.backoff_scale)


def pods_unsupported(template: dict[str, Any]) -> list[str]:
    kinds = ("script", "resource", "steps", "suspend", "containerSet", "data", "http", "plugin")
    return [k for k in kinds if k in template]
