"""Checking an export: the signature over manifest.json's bytes, then every file against the size and SHA-256
the manifest lists, and no file it does not list. What this proves, and what it does not: design/evidence.md.

The first failure is named ("clips/01-hem-4-20261122-143000.mp4: its SHA-256 differs from the manifest").
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from nvr.evidence.manifest import DISTRICT_FORMAT, MANIFEST, SIGNATURE, STATIONS, UNLISTED
from nvr.evidence.signing import KeyFormatError, fingerprint, load_public_key, signature_holds
from nvr.evidence.zip_layout import LayoutError, check_layout

CHUNK = 1 << 20
MANIFEST_MAX = 64 << 20  # a manifest lists files by name, size and hash: a few hundred bytes each


class Failed(Exception):
    """The first thing that does not hold, as `name: why`."""


@dataclass(frozen=True)
class Verdict:
    failure: str | None  # None: everything holds
    station: str | None = None  # None for a district's export
    fingerprint: str | None = None  # of the key the signature was checked with
    key_from_export: bool = False  # checked with the key the export carries, not one given by the caller
    stations: tuple[Verdict, ...] = ()  # a district's export: each post's export inside, checked alone

    @property
    def ok(self) -> bool:
        return self.failure is None


def verify_export(path: Path, key: Ed25519PublicKey | None = None, *, station_only: bool = False) -> Verdict:
    """Check the export at `path` with `key` (None: the public key written in the export itself). A district's
    export is checked with the district's key, then each post's export inside it with the post's key (which must
    be a station's: `station_only`, else exports nested in each other recursed without end)."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_layout(path, archive)
            return _verify(archive, key, station_only)
    except Failed as failure:
        return Verdict(str(failure))
    except LayoutError as exc:
        return Verdict(f"{path.name}: not laid out as a station writes an export: {exc}")
    except (zipfile.BadZipFile, OSError) as exc:
        return Verdict(f"{path.name}: not a readable ZIP ({exc})")
    except Exception as exc:  # a crafted file: whatever the ZIP or JSON readers raise is a failure, not a traceback
        return Verdict(f"{path.name}: unreadable ({type(exc).__name__}: {exc})")


def _verify(archive: zipfile.ZipFile, key: Ed25519PublicKey | None, station_only: bool) -> Verdict:
    twice = [name for name, count in Counter(archive.namelist()).items() if count > 1]
    if twice:
        raise Failed(f"{twice[0]}: appears more than once in the ZIP")
    if MANIFEST in archive.namelist() and archive.getinfo(MANIFEST).file_size > MANIFEST_MAX:
        raise Failed(f"{MANIFEST}: larger than any export's ({archive.getinfo(MANIFEST).file_size} bytes)")
    manifest_bytes, signature = _read(archive, MANIFEST), _read(archive, SIGNATURE)
    signer = key or _export_key(_parse(manifest_bytes))  # a key given: the signature is checked before parsing
    if not signature_holds(signer, signature, manifest_bytes):
        raise Failed(f"{SIGNATURE}: the signature does not match {MANIFEST} (key {fingerprint(signer)})")
    manifest = _parse(manifest_bytes)
    district = manifest.get("format") == DISTRICT_FORMAT
    if district and station_only:
        raise Failed(f"{MANIFEST}: a district's export where a station's belongs")
    _check_files(archive, manifest)
    if district:
        return Verdict(None, None, fingerprint(signer), key is None, _verify_stations(archive, manifest))
    return Verdict(None, str(manifest.get("station", {}).get("id")), fingerprint(signer), key is None)


def _check_files(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every member listed with its size and SHA-256, and no other but the manifest and its signature."""
    listed = _listed(manifest)
    for name, size, sha256 in listed:
        if _digest(archive, name) != (size, sha256):
            raise Failed(f"{name}: its size or SHA-256 differs from the manifest")
    unlisted = sorted(set(archive.namelist()) - UNLISTED - {name for name, _size, _sha in listed})
    if unlisted:
        raise Failed(f"{unlisted[0]}: not listed in the manifest")


def _verify_stations(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> tuple[Verdict, ...]:
    """Each post's export in a district's: its manifest and signature are those the district recorded, and it
    verifies alone with the post's key as the district recorded it (from the post's GET /api/station). Its
    bytes were checked against `files` before."""
    try:
        entries = [(str(s["id"]), str(s["export"]["file"]), str(s["export"]["manifest_sha256"]),
                    str(s["export"]["manifest_sig"]), str(s["public_key"])) for s in manifest["stations"]]
    except (KeyError, TypeError) as exc:
        raise Failed(f"{MANIFEST}: its list of stations is unreadable ({exc})") from None
    inside = {name for name in archive.namelist() if name.startswith(STATIONS + "/")}
    named = {entry[1] for entry in entries}
    if inside != named:
        raise Failed(f"{min(inside ^ named)}: not one station's export each")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="nvr-verify-") as folder:
        for station, name, manifest_sha256, manifest_sig, public in entries:
            inner = Path(folder) / "station.zip"
            with archive.open(name) as member, inner.open("wb") as out:
                shutil.copyfileobj(member, out, CHUNK)
            try:
                verdict = verify_export(inner, load_public_key(public), station_only=True)
            except KeyFormatError as exc:
                raise Failed(f"{MANIFEST}: station {station}'s public key is unusable ({exc})") from None
            if not verdict.ok:
                raise Failed(f"{name}: {verdict.failure}")
            if verdict.station != station:
                raise Failed(f"{name}: an export of station {verdict.station}, not of {station}")
            if manifest_seal(inner) != (manifest_sha256, manifest_sig):
                raise Failed(f"{name}: its manifest or signature is not the one the district recorded")
            verdicts.append(verdict)
    return tuple(verdicts)


def manifest_seal(path: Path) -> tuple[str, str]:
    """The SHA-256 of a verified export's manifest and its signature in base64: what a district records of
    each post's export, and checks again."""
    with zipfile.ZipFile(path) as export:
        return hashlib.sha256(export.read(MANIFEST)).hexdigest(), base64.b64encode(export.read(SIGNATURE)).decode()


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise Failed(f"{name}: missing") from None
    except zipfile.BadZipFile as exc:
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
    except zipfile.BadZipFile as exc:
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
    """The public key the export carries: the station's, or a district export's the district's."""
    signer = "district" if manifest.get("format") == DISTRICT_FORMAT else "station"
    try:
        return load_public_key(str(manifest[signer]["public_key"]))
    except (KeyError, TypeError, KeyFormatError) as exc:
        raise Failed(f"{MANIFEST}: no usable {signer} public key in it ({exc})") from None


def _listed(manifest: dict[str, Any]) -> list[tuple[str, int, str]]:
    try:
        return [(str(entry["name"]), int(entry["bytes"]), str(entry["sha256"])) for entry in manifest["files"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise Failed(f"{MANIFEST}: its list of files is unreadable ({exc})") from None
