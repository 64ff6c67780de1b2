"""The run-time values a workflow hands every task, checked the same way on both sides.

A datastore URL travels in environment variables, generated files, logs and messages, so it
may hold no credentials (``redact_url`` hides any it holds, whatever they contain) and no
control characters; an execution id names a directory and an environment variable's value.
A local run, the shim and every compiler call these, so they refuse the same values.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from laminar.errors import LaminarError
from laminar.text import describe_bytes, invalid_utf8, printable

#: Where credentials go instead of a URL, by where the flow runs.
CREDENTIALS_HELP = (
    "Credentials never go in a URL, which is copied into generated files, logs and messages. "
    "Locally, use the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or an AWS "
    "profile (AWS_PROFILE); on Argo, name a Kubernetes secret with --s3-secret; on GitHub, "
    "pass repository secrets with --secret; on Airflow, use an Airflow connection or the "
    "workers' environment."
)

#: Longest execution id: Airflow's run_id column holds 250 characters, and an id is a
#: directory name in the datastore (at most 255 bytes on common file systems).
MAX_EXECUTION_ID = 250


#: Query parameters that carry secrets (presigned and SAS URLs: ``sig=``, ``X-Amz-Signature=``,
#: ``token=``, ...): their values are credentials, like a password.
_SECRET_QUERY = re.compile(r"(?i)sig|token|secret|passw|pwd|key|credential|auth|session")


def _userinfo(part: str) -> tuple[str, str, str] | None:
    """``(scheme, userinfo, rest)`` when ``part`` (one URL of an fsspec chain) holds
    ``user[:password]@`` before its host; else ``None``.

    A secret may hold any character (``/``, ``@``, ``?``, ``#``, ``:``, ``%``), so the
    authority is not cut at the first ``/`` as a URL parser would: the userinfo runs to the
    last ``@`` when the text before its first ``:`` is one path component (``user:...@``).
    A ``@`` in a path (``s3://bucket/v@1``) has a ``/`` before it and no ``:``: not userinfo.
    """
    scheme, separator, rest = part.partition("://")
    at = rest.rfind("@")
    if not separator or at < 0:
        return None
    candidate = rest[:at]
    user, colon, _ = candidate.partition(":")
    if colon and not any(c in user for c in "/?#"):
        return scheme, candidate, rest[at + 1 :]
    if not any(c in candidate for c in "/?#"):  # a user name alone (sftp://user@host)
        return scheme, candidate, rest[at + 1 :]
    return None


def _has_password(part: str) -> bool:
    found = _userinfo(part)
    if found is not None and ":" in unquote(found[1]):  # KEY%3ASECRET@ is KEY:SECRET@
        return True
    query = part.partition("?")[2]
    return any(_SECRET_QUERY.search(name) for name, _ in _query(query))


def _query(query: str) -> list[tuple[str, str]]:
    return [(n, v) for n, _, v in (p.partition("=") for p in re.split("[&;]", query) if p)]


def _shown(name: str, value: str) -> str:
    if not value:
        return name
    return f"{name}=***" if _SECRET_QUERY.search(name) else f"{name}={value}"


def redact_url(url: str) -> str:
    """``url`` fit to print: any ``user:password@`` (whatever the password holds) becomes
    ``***@``, and the values of secret-looking query parameters ``***``, in each part of a
    chained URL. The one function every message and generated file shows URLs through."""
    parts = []
    for part in url.split("::"):
        found = _userinfo(part)
        if found is not None:
            part = f"{found[0]}://***@{found[2]}"
        base, question, query = part.partition("?")
        if question:
            part = f"{base}?{'&'.join(_shown(name, value) for name, value in _query(query))}"
        parts.append(part)
    redacted = "::".join(parts)
    # A secret holding "::" would split a part in two: then hide everything up to the last @.
    whole = _userinfo(redacted)
    return f"{whole[0]}://***@{whole[2]}" if whole and "***" not in whole[1] else redacted


def check_datastore_url(url: str, option: str) -> str:
    """``url`` unchanged if it can be handed to every task; else a ``LaminarError``.

    Refused: a password in the URL in any form (``s3://KEY:SECRET@bucket/p`` where the secret
    may hold ``/``, ``+``, ``=``, ``@`` or percent-escapes; ``?sig=...`` query secrets; the
    message never shows it), bytes that are not UTF-8, and control characters (a URL travels
    in environment variables and generated files). ``option`` names where the URL came from.
    """
    redacted = redact_url(url)
    shown = describe_bytes(redacted)
    if invalid_utf8(url):
        raise LaminarError(
            f"{option} {shown} is not valid UTF-8; name the datastore with a UTF-8 path or URL."
        )
    # Each part of an fsspec chain (simplecache::s3://...), and the whole in case a secret
    # holds "::" itself.
    if any(_has_password(part) for part in (*url.split("::"), url)):
        raise LaminarError(f"{option} {shown} holds credentials. {CREDENTIALS_HELP}")
    if not url.strip() or printable(url) != url:
        raise LaminarError(
            f"{option} {shown} is not a usable datastore URL: it must not be empty or "
            "contain control characters. Use a path or a URL such as s3://bucket/prefix."
        )
    return url


def check_execution_id(execution: str, option: str) -> str:
    """``execution`` unchanged if it can name an execution; else a ``LaminarError``.

    Any text an orchestrator uses as a run id is accepted (the datastore path is sanitised),
    except what no file name or environment variable can hold.
    """
    if not execution:
        raise LaminarError(f"{option} is empty: an execution id is at least one character.")
    if invalid_utf8(execution):
        raise LaminarError(
            f"{option} {describe_bytes(execution)} is not valid UTF-8; use a UTF-8 id."
        )
    if "\x00" in execution:
        raise LaminarError(
            f"{option} {describe_bytes(execution)} contains a NUL character, which no "
            "environment variable or command line can carry; use another id."
        )
    if len(execution) > MAX_EXECUTION_ID:
        raise LaminarError(
            f"{option} is {len(execution)} characters long ({describe_bytes(execution[:20])}...); "
            f"an execution id has at most {MAX_EXECUTION_ID}."
        )
    return execution
