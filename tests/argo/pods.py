"""Runs one Argo container template as a local process, the way a pod would run it.

The image is ignored: `command` + `args` run on this machine. Container paths are mapped
into host directories by rewriting path prefixes in the command line, the env values and
`workingDir` (see `PathMap`), which is enough for programs that receive their paths from
the manifest, as laminar's shim does. Each attempt gets a fresh sandbox, like a new pod.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import templating

ERROR = "Error"
FAILED = "Failed"
SUCCEEDED = "Succeeded"


@dataclasses.dataclass
class Attempt:
    """One run of a container; `argv`/`env` may be edited by a `prepare_attempt` hook."""

    node: str
    template: str
    number: int
    argv: list[str]
    env: dict[str, str]
    cwd: str
    sandbox: Path
    delay: float = 0.0  # backoff (unscaled seconds) waited before this attempt
    #: The template's activeDeadlineSeconds: the pod is killed after this long.
    deadline: float | None = None
    exit_code: int | None = None
    phase: str = ""
    message: str = ""
    stdout: str = ""
    stderr: str = ""
    #: What the pod's main container asked for (``resources``, after ``podSpecPatch``).
    resources: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class PodSettings:
    """What the harness knows that a cluster would know (secrets, volumes, time limits)."""

    workdir: Path
    base_env: dict[str, str]
    secrets: Mapping[str, Mapping[str, str]]
    config_maps: Mapping[str, Mapping[str, str]]
    path_map: Mapping[str, str]
    namespace: str
    timeout: float
    image_workdir: Path | None = None
    prepare_attempt: Callable[[Attempt], None] | None = None


class PathMap:
    """Rewrites container path prefixes (`/tmp/out`, `/mnt/data`) to host directories.

    A prefix matches at a path boundary only: `/tmp` maps `/tmp/x` and `file:///tmp/x` but
    not `/tmpfoo` or `a/tmp`. Longest prefix wins; each string is rewritten in one pass.
    """

    def __init__(self, rules: Mapping[str, str]) -> None:
        self.rules = {k.rstrip("/") or "/": v for k, v in rules.items()}
        ordered = sorted(self.rules, key=len, reverse=True)
        alternatives = "|".join(re.escape(p) for p in ordered)
        self._pattern = re.compile(
            rf"(?:(?<=://)|(?<![\w./-]))({alternatives})(?=/|$|[^\w.-])" if ordered else r"(?!)"
        )

    def __call__(self, text: str) -> str:
        return self._pattern.sub(lambda m: self.rules[m.group(1)], text)

    def host_path(self, container_path: str, fallback_root: Path) -> Path:
        mapped = self(container_path)
        if mapped != container_path:
            return Path(mapped)
        return fallback_root / container_path.lstrip("/")


def _safe(name: str) -> str:
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] + "-" + digest


def _volume_dirs(
    template: dict[str, Any], spec: dict[str, Any], settings: PodSettings, sandbox: Path
) -> dict[str, Path]:
    """Host directory of every volume a container may mount, by volume name."""
    dirs: dict[str, Path] = {}
    for claim in spec.get("volumeClaimTemplates", []):
        dirs[claim["metadata"]["name"]] = (
            settings.workdir / "volumes" / f"vct-{claim['metadata']['name']}"
        )
    for volume in [*spec.get("volumes", []), *template.get("volumes", [])]:
        name = volume["name"]
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            dirs[name] = settings.workdir / "volumes" / f"pvc-{claim}"
        elif "emptyDir" in volume:
            dirs[name] = sandbox / "volumes" / name
        elif "secret" in volume or "configMap" in volume:
            source = "secret" if "secret" in volume else "configMap"
            key = "secretName" if source == "secret" else "name"
            store = settings.secrets if source == "secret" else settings.config_maps
            data = store.get(volume[source][key], {})
            dirs[name] = sandbox / "volumes" / name
            dirs[name].mkdir(parents=True, exist_ok=True)
            for file, value in data.items():
                (dirs[name] / file).write_text(value, encoding="utf-8")
        else:
            raise NotImplementedError(f"volume {name!r}: only PVC, emptyDir, secret, configMap")
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    return dirs


def _env(
    container: dict[str, Any], settings: PodSettings, pod_name: str, rewrite: PathMap
) -> dict[str, str]:
    env = dict(settings.base_env)
    for source in container.get("envFrom", []):
        kind = "secretRef" if "secretRef" in source else "configMapRef"
        store = settings.secrets if kind == "secretRef" else settings.config_maps
        ref = source[kind]
        if ref["name"] not in store and not ref.get("optional"):
            raise LookupError(f"{kind} {ref['name']!r} not found")
        for key, value in store.get(ref["name"], {}).items():
            env[source.get("prefix", "") + key] = value
    defined: dict[str, str] = {}  # Kubernetes expands $(VAR) only with the container's own env
    for var in container.get("env", []):
        if "valueFrom" not in var:
            value = kubernetes_expand(var.get("value", ""), defined)
            env[var["name"]] = defined[var["name"]] = rewrite(value)
            continue
        value_from = var["valueFrom"]
        if "fieldRef" in value_from:
            field = value_from["fieldRef"]["fieldPath"]
            fields = {"metadata.name": pod_name, "metadata.namespace": settings.namespace}
            if field not in fields:
                raise NotImplementedError(f"env fieldRef {field!r}")
            env[var["name"]] = defined[var["name"]] = fields[field]
            continue
        kind = "secretKeyRef" if "secretKeyRef" in value_from else "configMapKeyRef"
        if kind not in value_from:
            raise NotImplementedError(f"env valueFrom {sorted(value_from)}")
        store = settings.secrets if kind == "secretKeyRef" else settings.config_maps
        ref = value_from[kind]
        secret = store.get(ref["name"], {}).get(ref["key"])
        if secret is None:
            if ref.get("optional"):
                continue
            raise LookupError(f"{kind}: key {ref['key']!r} of {ref['name']!r} not found")
        env[var["name"]] = defined[var["name"]] = secret
    return env


def kubernetes_expand(text: str, env: Mapping[str, str]) -> str:
    """What the kubelet makes of a command or env value: ``$(VAR)`` expanded, ``$$`` -> ``$``.

    An unknown ``$(VAR)`` stays as it is, as in Kubernetes.
    """
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            if text[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if text[i + 1] == "(" and ")" in text[i:]:
                end = text.index(")", i)
                name = text[i + 2 : end]
                out.append(env.get(name, text[i : end + 1]))
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def prepare(
    template: dict[str, Any],
    spec: dict[str, Any],
    scope: Mapping[str, Any],
    settings: PodSettings,
    node: str,
    number: int,
) -> tuple[Attempt, PathMap, dict[str, Any]]:
    """Substitute, map paths and build the process for one attempt."""
    container = _substitute(template["container"], scope)
    outputs = _substitute(template.get("outputs", {}), scope)
    sandbox = settings.workdir / "pods" / f"{_safe(node)}-{number}"
    root = sandbox / "root"
    root.mkdir(parents=True, exist_ok=True)
    volumes = _volume_dirs(template, spec, settings, sandbox)
    rules = {k: str(v) for k, v in settings.path_map.items()}
    for mount in container.get("volumeMounts", []):
        if mount["name"] not in volumes:
            raise LookupError(f"volumeMount {mount['name']!r}: no such volume")
        rules[mount["mountPath"]] = str(volumes[mount["name"]])
    base = PathMap(rules)
    for param in outputs.get("parameters", []):
        path = param.get("valueFrom", {}).get("path")
        if path is not None and base(path) == path:
            rules[path] = str(root / path.lstrip("/"))
    rewrite = PathMap(rules)
    for target in rules.values():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    if "command" not in container:
        raise NotImplementedError("a container without `command` runs the image entrypoint")
    pod_name = f"{scope['workflow.name']}-{template['name']}-{_safe(node)[-8:]}"
    env = _env(container, settings, pod_name, rewrite)
    own = {var["name"]: env[var["name"]] for var in container.get("env", []) if var["name"] in env}
    argv = [
        rewrite(kubernetes_expand(a, own))
        for a in [*container["command"], *container.get("args", [])]
    ]
    cwd = rewrite(container.get("workingDir", ""))
    if not cwd and settings.image_workdir is not None:
        cwd = str(settings.image_workdir)
    if not cwd or (cwd.startswith("/") and not Path(cwd).is_dir()):
        cwd = str(root / cwd.lstrip("/")) if cwd else str(root)
    Path(cwd).mkdir(parents=True, exist_ok=True)
    attempt = Attempt(node, template["name"], number, argv, env, cwd, sandbox)
    attempt.resources = pod_resources(container, template.get("podSpecPatch"), scope)
    if "activeDeadlineSeconds" in template:
        attempt.deadline = float(template["activeDeadlineSeconds"])
    return attempt, rewrite, outputs


def pod_resources(
    container: dict[str, Any], patch: str | None, scope: Mapping[str, Any]
) -> dict[str, Any]:
    """The main container's resources once the template's ``podSpecPatch`` (substituted and
    evaluated for this attempt, as Argo does when it creates the pod) is merged over them:
    a strategic merge of the container named ``main``, key by key."""
    resources = {key: dict(value) for key, value in container.get("resources", {}).items()}
    if patch is None:
        return resources
    patched = yaml.safe_load(templating.substitute(patch, scope))  # JSON or YAML, as Argo
    for entry in patched.get("containers", []):
        if entry.get("name") != "main":
            raise NotImplementedError(f"podSpecPatch of container {entry.get('name')!r}")
        for key, value in entry.get("resources", {}).items():
            resources.setdefault(key, {}).update(value)
    return resources


def _substitute(node: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(node, str):
        return templating.substitute(node, scope)
    if isinstance(node, dict):
        return {k: _substitute(v, scope) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, scope) for v in node]
    return node


def run_attempt(attempt: Attempt, settings: PodSettings) -> None:
    """Run the process and set exit code, phase and captured output on the attempt."""
    if settings.prepare_attempt is not None:
        settings.prepare_attempt(attempt)
    limits = [t for t in (settings.timeout, attempt.deadline) if t is not None]
    try:
        proc = subprocess.run(
            attempt.argv,
            env=attempt.env,
            cwd=attempt.cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=min(limits, default=None),
            check=False,
        )
    except FileNotFoundError as exc:
        attempt.phase, attempt.message = ERROR, f"cannot start {attempt.argv[0]!r}: {exc}"
        return
    except subprocess.TimeoutExpired as exc:
        attempt.phase, attempt.message = (
            FAILED,
            # Argo's message for a pod past its template's activeDeadlineSeconds.
            "Pod was active on the node longer than the specified deadline"
            if exc.timeout == attempt.deadline
            else f"killed after the harness timeout ({exc.timeout}s)",
        )
        attempt.stdout = _text(exc.stdout)
        attempt.stderr = _text(exc.stderr)
        return
    attempt.exit_code, attempt.stdout, attempt.stderr = proc.returncode, proc.stdout, proc.stderr
    if proc.returncode == 0:
        attempt.phase = SUCCEEDED
    else:
        attempt.phase, attempt.message = FAILED, f"Error (exit code {proc.returncode})"


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""


def read_outputs(
    attempt: Attempt, outputs: dict[str, Any], rewrite: PathMap
) -> dict[str, str] | None:
    """Output parameters of a succeeded attempt; None (and phase Error) when one is missing.

    Like Argo's executor, a single trailing newline is trimmed from a file's content.
    """
    values: dict[str, str] = {}
    result = attempt.stdout
    values["result"] = result[:-1] if result.endswith("\n") else result
    for param in outputs.get("parameters", []):
        value_from = param.get("valueFrom", {})
        if "value" in param:
            values[param["name"]] = param["value"]
            continue
        if "path" not in value_from:
            raise NotImplementedError(f"output parameter {param['name']!r}: only valueFrom.path")
        host = rewrite.host_path(value_from["path"], attempt.sandbox / "root")
        try:
            text = host.read_text(encoding="utf-8")
            values[param["name"]] = text[:-1] if text.endswith("\n") else text
        except OSError:
            if "default" not in value_from:
                attempt.phase = ERROR
                attempt.message = (
                    f"output parameter {param['name']!r}: {value_from['path']} not found"
                )
                return None
            values[param["name"]] = value_from["default"]
    return values
