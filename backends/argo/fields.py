"""What Argo's fields hold, apart from the dialect: strings made inert for Argo's and
Kubernetes' template languages, limits in Argo's units, the description annotation and a
layer's retries as Argo's ``retryStrategy``."""

from __future__ import annotations

import math
import re

from laminar.backends.argo import spec as argo
from laminar.backends.document import Expression
from laminar.backends.jobs import Job
from laminar.backends.kubernetes import kubernetes_text
from laminar.errors import CompileError

#: Name of the env var that holds ``{`` (see ``container_text``).
ENV_LBRACE = "LAMINAR_LBRACE"


def container_text(value: str) -> str:
    """``value`` for a container's command or env, arriving in the process unchanged.

    ``$`` is doubled (Kubernetes turns ``$$`` back into ``$``, so ``$(HOME)`` stays literal).
    Argo cannot escape ``{{``, so the second brace of each pair is written as
    ``$(LAMINAR_LBRACE)``, an env var holding ``{`` that Kubernetes expands after Argo has
    finished: the text Argo sees has no ``{{`` and the process sees the original.
    """
    text = kubernetes_text(value)
    return re.sub(r"(?<=\{)\{", f"$({ENV_LBRACE})", text)


def argo_text(value: str) -> str:
    """Every plain string of the output: Argo would evaluate a ``{{`` in it, so none may hold
    one (container strings were made inert by ``container_text`` before)."""
    if "{{" in value:
        raise CompileError(
            f"{value!r} contains '{{{{', which Argo would evaluate as an expression and cannot "
            "escape outside a container's command and env; remove it."
        )
    return value


def description(text: str) -> dict[str, str] | None:
    """The flow's docstring as the annotation Argo's UI shows. Argo would evaluate a ``{{`` in
    it and cannot escape one, so a pair of braces is written apart (``{ {``)."""
    if not text:
        return None
    return {"workflows.argoproj.io/description": text.replace("{{", "{ {").replace("}}", "} }")}


def whole_seconds(timeout: float | None) -> int | None:
    """A limit as Argo's whole seconds, rounded up (never shorter than the flow says)."""
    return None if timeout is None else math.ceil(timeout)


def retry_strategy(job: Job) -> argo.RetryStrategy | None:
    """``Retry`` in Argo's terms: ``limit`` counts retries, not attempts."""
    retry = job.retry
    if retry is None:
        return None
    if float(retry.backoff) != int(retry.backoff):
        raise CompileError(
            f"Layer {job.layer} has Retry(backoff={retry.backoff!r}), but Argo's backoff "
            "factor is a whole number; use backoff=1 (a fixed delay) or 2, 3, ..."
        )
    delay = float(retry.delay)
    backoff = None
    if delay > 0:
        duration = f"{int(delay)}s" if delay == int(delay) else f"{max(1, round(delay * 1000))}ms"
        backoff = argo.Backoff(duration, str(int(retry.backoff)))
    return argo.RetryStrategy(str(retry.attempts - 1), backoff=backoff)


def pod_spec_patch(parameter: str, retried: bool) -> Expression:
    """The ``podSpecPatch`` giving a leg's pod the resources its plan decided for this
    attempt: input ``parameter`` holds, per leg, one object per attempt (``[leg][retries]``,
    ``laminar.runtime.sizing``), which Argo evaluates when it creates each pod. Built from
    laminar's own names: the values stay data in the parameter."""
    attempt = "' + retries + '" if retried else "0"  # no retries: no {{retries}}
    path = f"'$[' + inputs.parameters.leg + '][{attempt}]'"
    found = f"{{{{=jsonpath(inputs.parameters.{parameter}, {path})}}}}"
    resources = f'{{"requests":{found},"limits":{found}}}'
    return Expression(f'{{"containers":[{{"name":"main","resources":{resources}}}]}}')
