"""Checking an export: the signature over manifest.json's bytes, then every file against the size and SHA-256
the manifest lists, and no file it does not list. What this proves, and what it does not: design/evidence.md.

The first failure is named ("clips/01-hem-4-20261122-143000.mp4: its SHA-256 differs from the manifest").
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from nvr.evidence.manifest import MANIFEST, SIGNATURE, UNLISTED
from nvr.evidence.signing import KeyFormatError, fingerprint, load_public_key, signature_holds

CHUNK = 1 << 20


class Failed(Exception):
    """The first thing that does not hold, as `name: why`."""


@dataclass(frozen=True)
class Verdict:
    failure: str | None  # None: everything holds
    station: str | None = None
    fingerprint: str | None = None  # of the key the signature was checked with
    key_from_export: bool = False  # checked with the key the export carries, not one given by the caller

    @property
    def ok(self) -> bool:
        return self.failure is None


def verify_export(path: Path, key: Ed25519PublicKey | None = None) -> Verdict:
    """Check the export at `path` with `key` (None: the public key written in the export itself)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _verify(archive, key)
    except Failed as failure:
        return Verdict(str(failure))
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict(f"{path.name}: not a readable ZIP ({exc})")


def _verify(archive: zipfile.ZipFile, key: Ed25519PublicKey | None) -> Verdict:
    twice = [name for name, count in Counter(archive.namelist()).items() if count > 1]
    if twice:
        raise Failed(f"{twice[0]}: appears more than once in the ZIP")
    manifest_bytes, signature = _read(archive, MANIFEST), _read(archive, SIGNATURE)
    signer = key or _export_key(_parse(manifest_bytes))
    if not signature_holds(signer, signature, manifest_bytes):
        raise Failed(f"{SIGNATURE}: the signature does not match {MANIFEST} (key {fingerprint(signer)})")
    manifest = _parse(manifest_bytes)
    listed = _listed(manifest)
    for name, size, sha256 in listed:
        if _digest(archive, name) != (size, sha256):
            raise Failed(f"{name}: its size or SHA-256 differs from the manifest")
    unlisted = sorted(set(archive.namelist()) - UNLISTED - {name for name, _size, _sha in listed})
    if unlisted:
        raise Failed(f"{unlisted[0]}: not listed in the manifest")
    return Verdict(None, str(manifest.get("station", {}).get("id")), fingerprint(signer), key is None)


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise Failed(f"{name}: missing") from None
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise Failed(f"{name}: damaged ({exc})") from None


def _digest(archive: zipfile.ZipFile, name: str) -> tuple[int, str]:
    """Size and SHA-256 of a member; a changed byte usually fails the ZIP's own CRC-32 first."""
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(name) as member:
            while chunk := member.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except KeyError:
        raise Failed(f"{name}: missing") from None
    except (zipfile.BadZipFile, zlib.error) as exc:
        raise Failed(f"{name}: damaged ({exc})") from None
    return size, digest.hexdigest()


def _parse(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise Failed(f"{MANIFEST}: not readable JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise Failed(f"{MANIFEST}: not an export manifest")
    return manifest


def _export_key(manifest: dict[str, Any]) -> Ed25519PublicKey:
    try:
        return load_public_key(str(manifest["station"]["public_key"]))
    except (KeyError, TypeError, KeyFormatError) as exc:
        raise Failed(f"{MANIFEST}: no usable station public key in it ({exc})") from None


def _listed(manifest: dict[str, Any]) -> list[tuple[str, int, str]]:
    try:
        return [(str(entry["name"]), int(entry["bytes"]), str(entry["sha256"])) for entry in manifest["files"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"{MANIFEST}: its list of files is unreadable ({exc})") from None
