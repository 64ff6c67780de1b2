"""What a job runs in, resolved from its layer's settings: the command that starts laminar,
the image (with the error when there is none), the environment (laminar's own variables
refused), the orchestrator's retries, the time limit and the Kubernetes resources."""

from __future__ import annotations

from laminar.backends.jobs import Placement, Resources
from laminar.backends.options import CompileOptions
from laminar.configurations.layers import Retry
from laminar.contract import RESERVED_ENV
from laminar.errors import CompileError
from laminar.ir import LayerSpec


def laminar_command(spec: LayerSpec, options: CompileOptions) -> tuple[str, ...]:
    """The command that runs laminar for this layer: ``Container(command=...)`` or the
    compile options' (``laminar``)."""
    container = spec.settings.container
    words = container.command_words if container is not None else None
    return words or options.laminar


def image_of(spec: LayerSpec, options: CompileOptions, needs_image: bool) -> str | None:
    container = spec.settings.container
    image = (container.image if container is not None else None) or options.image
    if image is None and needs_image:
        raise CompileError(
            f"Layer {spec.name} has no image to run in: pass --image IMAGE, or set "
            f"Container(image=...) on the layer ({spec.source})."
        )
    if image is not None and (not image.isprintable() or any(c.isspace() for c in image)):
        raise CompileError(
            f"Layer {spec.name}: {image!r} is not an image reference such as "
            "ghcr.io/acme/flows:1.4 (no spaces or control characters)."
        )
    return image


def env_of(spec: LayerSpec) -> tuple[tuple[str, str], ...]:
    env = dict(spec.settings.container.env) if spec.settings.container is not None else {}
    clash = sorted(set(env) & set(RESERVED_ENV))
    if clash:
        raise CompileError(
            f"Layer {spec.name} sets {', '.join(clash)} in Container(env=...), which laminar "
            f"sets itself on every target; remove it from the layer ({spec.source})."
        )
    return tuple(sorted(env.items()))


def secrets_of(spec: LayerSpec) -> tuple[str, ...]:
    container = spec.settings.container
    secrets = container.secrets if container is not None else ()
    clash = sorted(set(secrets) & {*RESERVED_ENV, *(container.env if container else {})})
    if clash:
        raise CompileError(
            f"Layer {spec.name} names {', '.join(clash)} in Container(secrets=...), a variable "
            "laminar or Container(env=...) already sets; rename the secret "
            f"({spec.source})."
        )
    return tuple(secrets)


def placement_of(spec: LayerSpec) -> Placement:
    container = spec.settings.container
    if container is None:
        return Placement()
    return Placement(
        node_selector=tuple(container.node_selector.items()),
        tolerations=tuple(tuple(t.items()) for t in container.tolerations),
        runs_on=tuple(container.runs_on),
        queue=container.queue,
        pool=container.pool,
    )


def retry_of(spec: LayerSpec) -> Retry | None:
    retry = spec.settings.retry
    return None if retry is None or retry.attempts == 1 else retry


def timeout_of(spec: LayerSpec, retries_in_shim: bool) -> float | None:
    """The longest one run of a job may take: the layer's timeout per attempt, or, where
    the shim retries in the same run, every attempt and the longest waits between them."""
    timeout, retry = spec.settings.timeout, spec.settings.retry
    if timeout is None or not retries_in_shim or retry is None:
        return timeout
    waits = sum(
        float(retry.delay) * float(retry.backoff) ** (k - 1) + float(retry.jitter)
        for k in range(1, retry.attempts)
    )
    return timeout * retry.attempts + waits


def resources_of(spec: LayerSpec) -> Resources | None:
    container = spec.settings.container
    if container is None or (container.cpu, container.memory, container.gpu) == (None,) * 3:
        return None
    return Resources(container.cpu_quantity, container.memory_quantity, container.gpu)
