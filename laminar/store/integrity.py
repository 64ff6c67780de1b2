"""Checksums and signatures: what makes a committed object trustworthy before it is unpickled.

Every object a commit names carries a tag recorded by the commit: a CRC-32 of its bytes (zlib,
about 2.5 GB/s here: it catches truncation and flipped bytes, not an attacker), plus, when
``$LAMINAR_SIGNING_KEY`` is set, an HMAC-SHA256 under that key. Commit files themselves
(manifests, groups) are *sealed*: the same tag travels in a small header in front of the
payload. A reader checks the CRC of everything it reads and, holding a key, refuses anything
whose HMAC is missing or wrong, before a single byte reaches ``pickle``.

Unpickling runs code: without a key, whoever can write to the datastore can run code in every
process that reads it. The key moves that boundary to whoever holds the key.

A commit's signature is bound to its *place* (flow, execution, layer, task, name): the HMAC
covers the place as well as the bytes, so a signed manifest copied from another execution,
layer or task does not verify where it was put. Value files and chunk blocks need no place of
their own: their tags are recorded inside the (bound) commit that names them.

An empty ``$LAMINAR_SIGNING_KEY`` is an error, not "unsigned": on GitHub Actions a missing
secret evaluates to an empty string, and silently writing an unsigned store would hide it.
"""

from __future__ import annotations

import json
import os
import struct
import zlib

from laminar.contract import ENV_SIGNING_KEY
from laminar.errors import ArtifactError, ConfigurationError

#: ``(crc32, hmac)``: the tag of one object, as a manifest records it (``hmac`` is ``b""``
#: when the writer had no key).
Tag = tuple[int, bytes]
#: Where a committed object belongs: (flow, execution, layer, task, name); ``()`` for objects
#: pinned by the tag of the commit that names them (value files, chunk blocks).
Place = tuple[str, ...]

SEAL_MAGIC = b"LMS1"
_SEAL_HEAD = struct.Struct("<4sIB")  # magic, crc32 of the payload, length of the HMAC
_DIGEST = "sha256"
#: Chunk files are tagged in blocks of this many bytes, so reading one element checks (and
#: reads) one or two blocks of its chunk, not the whole chunk.
BLOCK = 64 * 1024


class CorruptObjectError(ArtifactError):
    """A stored object does not match the checksum its commit recorded (damaged or truncated)."""


class SignatureError(ArtifactError):
    """A signing key is set and an object is unsigned, or its signature does not match."""


class Seal:
    """Computes and checks tags with the key in force (``None``: checksums only)."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key or None

    @classmethod
    def from_environment(cls) -> Seal:
        """The key of ``$LAMINAR_SIGNING_KEY``: unset means checksums only; set but empty (or
        blank) is refused, since that is how a missing secret reaches a deployed task."""
        text = os.environ.get(ENV_SIGNING_KEY)
        if text is None:
            return cls(None)
        if not text.strip():
            raise ConfigurationError(
                f"{ENV_SIGNING_KEY} is set but empty, so nothing could be signed or checked. "
                f"Set it to the long random secret every writer and reader shares (on GitHub, "
                f"define the repository secret the workflow passes), or unset it to run "
                f"without signatures."
            )
        return cls(text.encode("utf-8"))

    @property
    def signing(self) -> bool:
        return self.key is not None

    def tag(self, data: bytes | memoryview, place: Place = ()) -> Tag:
        return zlib.crc32(data), self._mac(data, place)

    def _mac(self, data: bytes | memoryview, place: Place) -> bytes:
        if self.key is None:
            return b""
        import hmac  # here: only a signing datastore pays for OpenSSL's start-up

        if not place:
            return hmac.digest(self.key, data, _DIGEST)
        # The place is JSON (unambiguous whatever the names hold), then a newline, then data.
        signer = hmac.new(self.key, json.dumps(list(place)).encode() + b"\n", _DIGEST)
        signer.update(data)
        return signer.digest()

    def tag_blocks(self, data: bytes) -> tuple[Tag, ...]:
        """One tag per ``BLOCK`` bytes of ``data`` (the last block may be shorter)."""
        view = memoryview(data)
        return tuple(self.tag(view[i : i + BLOCK]) for i in range(0, len(data), BLOCK))

    def check_blocks(
        self, data: bytes, first: int, tags: tuple[Tag, ...], what: str, fix: str
    ) -> None:
        """Check ``data``, which holds whole blocks ``first, first + 1, ...`` of a file."""
        view = memoryview(data)
        for k, start in enumerate(range(0, max(len(data), 1), BLOCK), start=first):
            block = view[start : start + BLOCK]
            if k >= len(tags):
                raise CorruptObjectError(
                    f"{what} is damaged: it is longer than its commit recorded. {fix}"
                )
            self.check(block, tags[k], f"{what} (block {k})", fix)

    def check(
        self, data: bytes | memoryview, tag: Tag, what: str, fix: str, place: Place = ()
    ) -> None:
        """Raise unless ``data`` (at ``place``) matches ``tag``; ``what`` names the object,
        ``fix`` the remedy."""
        crc, mac = tag
        if zlib.crc32(data) != crc:
            raise CorruptObjectError(
                f"{what} is damaged: its checksum does not match the one its commit recorded "
                f"({len(data)} bytes read; truncated or overwritten). {fix}"
            )
        if self.key is None:
            return
        if not mac:
            raise SignatureError(
                f"{what} is not signed, and {ENV_SIGNING_KEY} is set: refusing to unpickle it. "
                f"It was written without the key (or by someone without it). {fix}"
            )
        import hmac

        if not hmac.compare_digest(mac, self._mac(data, place)):
            raise SignatureError(
                f"{what} has a signature that does not match {ENV_SIGNING_KEY}: it was signed "
                f"with another key{_moved(place)} or changed after signing; refusing to "
                f"unpickle it. Check the key; if it is right, treat the datastore as tampered "
                f"with. {fix}"
            )

    def seal(self, payload: bytes, place: Place = ()) -> bytes:
        """``payload`` with its tag in front: the format of manifests and commit groups."""
        crc, mac = self.tag(payload, place)
        return _SEAL_HEAD.pack(SEAL_MAGIC, crc, len(mac)) + mac + payload

    def unseal(self, data: bytes, what: str, fix: str, place: Place = ()) -> memoryview:
        """The payload of a sealed file, checked; raises a clear error when it is not whole."""
        size = _SEAL_HEAD.size
        if len(data) < size or data[:4] != SEAL_MAGIC:
            problem = "is empty" if not data else "does not start with a laminar seal"
            raise CorruptObjectError(
                f"{what} is damaged: it {problem} ({len(data)} bytes; truncated or "
                f"overwritten). {fix}"
            )
        _, crc, length = _SEAL_HEAD.unpack_from(data)
        view = memoryview(data)
        mac = bytes(view[size : size + length])
        payload = view[size + length :]
        self.check(payload, (crc, mac), what, fix, place)
        return payload


def _moved(place: Place) -> str:
    """The third way a bound object fails its check, for messages."""
    return ", copied here from another execution, layer or task," if place else ""
