"""Where Argo's pods find the datastore: an S3 URL, or a path on a mounted volume claim."""

from __future__ import annotations

from laminar.backends.argo.options import ArgoOptions
from laminar.contract import redact_url
from laminar.errors import CompileError


def datastore_url(settings: ArgoOptions, url: str | None) -> str:
    """The datastore every pod reaches: ``s3://...``, or a path on ``--volume-claim``."""
    scheme = url.split("://", 1)[0] if url and "://" in url else None
    if (settings.s3_secret or settings.s3_endpoint) and scheme != "s3":
        raise CompileError("--s3-secret and --s3-endpoint need an s3:// --datastore.")
    if settings.volume_claim is not None:
        mount = settings.mount_path.rstrip("/") or "/"
        path = url[len("file://") :] if url and scheme == "file" else url
        path = mount if path is None else path
        if scheme not in (None, "file") or not (path == mount or path.startswith(mount + "/")):
            raise CompileError(
                f"--volume-claim {settings.volume_claim} is mounted at {mount}, so "
                f"--datastore must be a path under it, such as file://{mount}/store "
                f"(got {redact_url(url or '')!r})."
            )
        return f"file://{path}"
    if url is None:
        raise CompileError(
            "Argo pods need a datastore they can all reach: pass --datastore "
            "s3://BUCKET/PREFIX (with --s3-secret SECRET), or --volume-claim PVC for a "
            "file:// datastore."
        )
    if scheme in (None, "file"):
        raise CompileError(
            f"--datastore {redact_url(url)!r} is a local path, which Argo pods cannot see: use "
            "s3://BUCKET/PREFIX, or mount a volume with --volume-claim PVC."
        )
    return url
