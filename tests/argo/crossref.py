"""Checks of an Argo resource that its JSON schema cannot express.

Every referenced template exists, every dependency names a task of the same DAG, names
follow Argo's and Kubernetes' rules (see ../shared/notes/target-limits.md), arguments match
the inputs they feed, and every `{{...}}` reference (including the names an `{{=...}}`
expression reads) resolves in the scope where Argo would substitute it.
Runs on a schema-valid document, so it trusts the document's shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import templating

TEMPLATE_KINDS = (
    "container",
    "script",
    "dag",
    "steps",
    "resource",
    "suspend",
    "containerSet",
    "data",
    "http",
    "plugin",
)
NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
GENERATE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*)$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
MAX_NAME = {"CronWorkflow": 52}
TASK_FIELDS = ("id", "ip", "status", "startedAt", "finishedAt", "exitCode", "hostNodeName")
GLOBAL_FIXED = (
    "workflow.name",
    "workflow.namespace",
    "workflow.uid",
    "workflow.serviceAccountName",
    "workflow.mainEntrypoint",
    "workflow.priority",
    "workflow.duration",
    "workflow.parameters",
    "workflow.creationTimestamp",
)
OPEN_PREFIXES = ("workflow.labels.", "workflow.annotations.", "workflow.creationTimestamp.")


def check_references(doc: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    kind = doc["kind"]
    _check_metadata(kind, doc.get("metadata", {}), "metadata", errors)
    spec = doc["spec"]["workflowSpec"] if kind == "CronWorkflow" else doc["spec"]
    if kind == "CronWorkflow":
        _check_labels(doc["spec"].get("workflowMetadata", {}), "spec.workflowMetadata", errors)
    _check_spec(kind, spec, errors)
    return errors


def _check_metadata(kind: str, meta: dict[str, Any], where: str, errors: list[str]) -> None:
    name = meta.get("name")
    limit = MAX_NAME.get(kind, 63)
    if name is not None and (not DNS_SUBDOMAIN.match(name) or len(name) > limit):
        errors.append(
            f"{where}.name: {name!r} must be a lowercase RFC 1123 name of at most {limit} chars"
        )
    generate = meta.get("generateName")
    if generate is not None and not GENERATE_NAME.match(generate):
        errors.append(f"{where}.generateName: {generate!r} must be lowercase [a-z0-9][-a-z0-9.]*")
    if name is None and generate is None and kind in ("WorkflowTemplate", "CronWorkflow"):
        errors.append(f"{where}.name: a {kind} needs a name")
    _check_labels(meta, where, errors)


def _check_labels(meta: dict[str, Any], where: str, errors: list[str]) -> None:
    for key, value in (meta.get("labels") or {}).items():
        prefix, _, name = key.rpartition("/")
        if (
            not LABEL_NAME.match(name)
            or len(name) > 63
            or (prefix and not DNS_SUBDOMAIN.match(prefix))
        ):
            errors.append(f"{where}.labels: invalid label key {key!r}")
        if not isinstance(value, str) or len(value) > 63 or not LABEL_VALUE.match(value):
            errors.append(f"{where}.labels[{key}]: invalid label value {value!r}")


def _check_spec(kind: str, spec: dict[str, Any], errors: list[str]) -> None:
    templates: dict[str, dict[str, Any]] = {}
    for i, template in enumerate(spec.get("templates", [])):
        where = f"spec.templates[{i}]"
        name = template.get("name", "")
        if not NAME.match(name) or len(name) > 128:
            errors.append(f"{where}.name: {name!r} must match [a-zA-Z0-9][-a-zA-Z0-9]* (max 128)")
        if name in templates:
            errors.append(f"{where}.name: duplicate template name {name!r}")
        templates[name] = template
    entry = spec.get("entrypoint")
    if entry is None and kind in ("Workflow", "CronWorkflow") and "workflowTemplateRef" not in spec:
        errors.append("spec.entrypoint: missing")
    elif entry is not None and entry not in templates:
        errors.append(f"spec.entrypoint: no template named {entry!r}")
    arguments = spec.get("arguments", {}).get("parameters", [])
    _check_param_names(arguments, "spec.arguments.parameters", errors)
    global_scope = set(GLOBAL_FIXED)
    global_scope |= {f"workflow.parameters.{p['name']}" for p in arguments}
    if kind == "CronWorkflow":
        global_scope.add("workflow.scheduledTime")
    for i, param in enumerate(arguments):
        _check_strings(param, f"spec.arguments.parameters[{i}]", global_scope, errors)
    on_exit = spec.get("onExit")
    if on_exit is not None and on_exit not in templates:
        errors.append(f"spec.onExit: no template named {on_exit!r}")
    for i, template in enumerate(spec.get("templates", [])):
        where = f"spec.templates[{i}]({template.get('name')})"
        scope = global_scope
        if template.get("name") == on_exit:  # only an exit handler sees how the run ended
            scope = global_scope | {"workflow.status", "workflow.failures"}
        _check_template(template, templates, scope, where, errors)


def _check_param_names(params: list[dict[str, Any]], where: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for i, param in enumerate(params):
        name = param["name"]
        if not PARAM_NAME.match(name):
            errors.append(f"{where}[{i}].name: {name!r} must match [-a-zA-Z0-9_]+")
        if name in seen:
            errors.append(f"{where}[{i}].name: duplicate parameter {name!r}")
        seen.add(name)


def _check_template(
    template: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    global_scope: set[str],
    where: str,
    errors: list[str],
) -> None:
    kinds = [k for k in TEMPLATE_KINDS if k in template]
    if len(kinds) != 1:
        errors.append(f"{where}: a template needs exactly one of {', '.join(TEMPLATE_KINDS)}")
    inputs = template.get("inputs", {}).get("parameters", [])
    outputs = template.get("outputs", {}).get("parameters", [])
    _check_param_names(inputs, f"{where}.inputs.parameters", errors)
    _check_param_names(outputs, f"{where}.outputs.parameters", errors)
    scope = set(global_scope) | {f"inputs.parameters.{p['name']}" for p in inputs}
    scope |= {"inputs.parameters", "pod.name", "node.name"}
    scope |= {f"outputs.parameters.{p['name']}" for p in outputs}
    if "retryStrategy" in template:
        scope.add("retries")
    for i, param in enumerate(outputs):
        value_from = param.get("valueFrom", {})
        if "path" in value_from and "dag" in template:
            errors.append(f"{where}.outputs.parameters[{i}]: valueFrom.path in a DAG template")
        if "parameter" in value_from and "dag" not in template and "steps" not in template:
            errors.append(f"{where}.outputs.parameters[{i}]: valueFrom.parameter outside a DAG")
    if "dag" not in template:
        _check_strings(template, where, scope, errors)
        return
    rest = {k: v for k, v in template.items() if k not in ("dag", "outputs")}
    _check_strings(rest, where, scope, errors)
    _check_dag(template, templates, scope, where, errors)


def _check_dag(
    template: dict[str, Any],
    templates: dict[str, dict[str, Any]],
    scope: set[str],
    where: str,
    errors: list[str],
) -> None:
    tasks = {t["name"]: t for t in template["dag"]["tasks"]}
    deps: dict[str, set[str]] = {}
    uses_deps = any("dependencies" in t or "depends" in t for t in tasks.values())
    for i, task in enumerate(template["dag"]["tasks"]):
        name = task["name"]
        at = f"{where}.dag.tasks[{i}]({name})"
        if not NAME.match(name) or len(name) > 128:
            errors.append(f"{at}.name: {name!r} must match [a-zA-Z0-9][-a-zA-Z0-9]* (max 128)")
        if uses_deps and name[:1].isdigit():
            errors.append(
                f"{at}.name: task names must not start with a digit in a DAG with dependencies"
            )
        if name in deps:
            errors.append(f"{at}.name: duplicate task name {name!r}")
        deps[name] = _task_dependencies(task, tasks, at, errors)
        _check_task_template(task, templates, at, errors)
    ancestors = _ancestors(deps, where, errors)
    for i, task in enumerate(template["dag"]["tasks"]):
        at = f"{where}.dag.tasks[{i}]({task['name']})"
        task_scope = set(scope) | _task_outputs(
            ancestors.get(task["name"], set()), tasks, templates
        )
        if any(k in task for k in ("withParam", "withItems", "withSequence")):
            task_scope.add("item")
        _check_strings(task, at, task_scope, errors, tasks=tasks, ancestors=ancestors[task["name"]])
    out_scope = set(scope) | _task_outputs(set(tasks), tasks, templates)
    _check_strings(template.get("outputs", {}), f"{where}.outputs", out_scope, errors, tasks=tasks)


def _task_dependencies(
    task: dict[str, Any], tasks: dict[str, Any], at: str, errors: list[str]
) -> set[str]:
    if "dependencies" in task and "depends" in task:
        errors.append(f"{at}: use either dependencies or depends, not both")
    names = set(task.get("dependencies", []))
    if "depends" in task:
        try:
            names |= {t for t, _ in templating.depends_operands(task["depends"])}
            templating.evaluate_depends(task["depends"], lambda t, r: True)
        except ValueError as exc:
            errors.append(f"{at}.depends: {exc}")
    for dep in sorted(names):
        if dep not in tasks:
            errors.append(f"{at}: depends on {dep!r}, which is not a task of this DAG")
        elif dep == task["name"]:
            errors.append(f"{at}: depends on itself")
    return {d for d in names if d in tasks}


def _check_task_template(
    task: dict[str, Any], templates: dict[str, dict[str, Any]], at: str, errors: list[str]
) -> None:
    if sum(1 for k in ("template", "templateRef", "inline") if k in task) != 1:
        errors.append(f"{at}: needs exactly one of template, templateRef, inline")
    if "withSequence" in task and ("count" in task["withSequence"]) == (
        "end" in task["withSequence"]
    ):
        errors.append(f"{at}.withSequence: needs exactly one of count and end")
    if sum(1 for k in ("withParam", "withItems", "withSequence") if k in task) > 1:
        errors.append(f"{at}: use at most one of withParam, withItems, withSequence")
    if "template" not in task:
        return
    target = templates.get(task["template"])
    if target is None:
        errors.append(f"{at}.template: no template named {task['template']!r}")
        return
    given = {p["name"] for p in task.get("arguments", {}).get("parameters", [])}
    for param in target.get("inputs", {}).get("parameters", []):
        if param["name"] not in given and "default" not in param and "value" not in param:
            errors.append(
                f"{at}.arguments: input parameter {param['name']!r} of template "
                f"{task['template']!r} is not supplied"
            )
    declared = {p["name"] for p in target.get("inputs", {}).get("parameters", [])}
    for extra in sorted(given - declared):
        errors.append(
            f"{at}.arguments: {extra!r} is not an input parameter of {task['template']!r}"
        )


def _ancestors(deps: dict[str, set[str]], where: str, errors: list[str]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}

    def visit(name: str, stack: tuple[str, ...]) -> set[str]:
        if name in stack:
            errors.append(f"{where}.dag: dependency cycle {' -> '.join((*stack, name))}")
            return set()
        if name not in result:
            found: set[str] = set()
            for dep in deps.get(name, set()):
                found |= {dep} | visit(dep, (*stack, name))
            result[name] = found
        return result[name]

    for name in deps:
        visit(name, ())
    return result


def _task_outputs(
    names: set[str], tasks: dict[str, Any], templates: dict[str, dict[str, Any]]
) -> set[str]:
    scope: set[str] = set()
    for name in names:
        scope |= {f"tasks.{name}.{field}" for field in TASK_FIELDS}
        target = templates.get(tasks[name].get("template", ""), {})
        for param in target.get("outputs", {}).get("parameters", []):
            scope.add(f"tasks.{name}.outputs.parameters.{param['name']}")
        if "container" in target or "script" in target:
            scope.add(f"tasks.{name}.outputs.result")
    return scope


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")


def _check_strings(
    node: Any,
    where: str,
    scope: set[str],
    errors: list[str],
    tasks: dict[str, Any] | None = None,
    ancestors: set[str] | None = None,
) -> None:
    for path, text in _strings(node, where):
        for tag in templating.tags(text):
            if tag.startswith("="):
                try:
                    names = templating.referenced_names(tag[1:])
                except (ValueError, NotImplementedError) as exc:
                    errors.append(f"{path}: {exc}")
                    continue
                for name in names:
                    if not _resolves(name, scope, expression=True):
                        errors.append(
                            f"{path}: {{{{{tag}}}}} reads {name!r}, which "
                            f"{_why(name, scope, tasks, ancestors)}"
                        )
            elif templating.is_checked(tag) and not _resolves(tag, scope, expression=False):
                errors.append(f"{path}: {{{{{tag}}}}} {_why(tag, scope, tasks, ancestors)}")


def _resolves(name: str, scope: set[str], *, expression: bool) -> bool:
    if name in scope or name.startswith(OPEN_PREFIXES):
        return True
    if name.startswith("item.") and "item" in scope:
        return True
    # An expression may read a whole sub-tree, e.g. `inputs.parameters` or `item`.
    return expression and any(s.startswith(name + ".") for s in scope)


def _why(
    name: str, scope: set[str], tasks: dict[str, Any] | None, ancestors: set[str] | None
) -> str:
    parts = name.split(".")
    if parts[0] == "item":
        return "does not resolve: `item` exists only in tasks with withParam/withItems/withSequence"
    if parts[0] == "tasks" and tasks is None:
        return "does not resolve: tasks.* can be read only by the tasks of a DAG template"
    if parts[0] == "tasks" and len(parts) > 1 and tasks is not None:
        if parts[1] not in tasks:
            return f"does not resolve: there is no task {parts[1]!r} in this DAG"
        if ancestors is not None and parts[1] not in ancestors:
            return f"does not resolve: task {parts[1]!r} is not a dependency (direct or indirect)"
        return f"does not resolve: task {parts[1]!r}'s template declares no such output"
    if parts[:2] == ["workflow", "parameters"]:
        return "does not resolve: not declared in spec.arguments.parameters"
    if parts[:2] == ["inputs", "parameters"]:
        return "does not resolve: the template declares no such input parameter"
    known = sorted(s for s in scope if s.split(".")[0] == parts[0])
    return f"does not resolve (in scope: {', '.join(known) or 'nothing under ' + parts[0]})"
