"""A district case as one ZIP signed by the district: each involved post's own signed export of its mirror
case, unchanged (`stations/<id>.zip`, each still checkable alone with `nvr verify`), a manifest naming the
case, its items per post and each post's export (size, SHA-256, its manifest's SHA-256 and signature, the
post's key as its `GET /api/station` gave it), the district's signature over that manifest, the district's
public key and a README (design/district.md, "Cases across posts")."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from nvr.district.case_store import DistrictCase
from nvr.district.config import StationLink
from nvr.district.post_export import PostExport, ask_post_export, fetch_post_export
from nvr.evidence.export import ExportCancelled, Progress, seal, wait_for_recording, zip_entry
from nvr.evidence.jobs import ExportRefused
from nvr.evidence.manifest import DISTRICT_FORMAT, README, STATIONS, instant
from nvr.evidence.signing import StationKey, fingerprint, public_base64, public_pem
from nvr.evidence.verify import CHUNK
from storage.clock import now_ms

DISTRICT_KEY_FILE = "district-key.pem"
DISTRICT_PUBLIC_KEY = "district-public-key.pem"
ENDS_WAIT_MS = 60_000  # and the recording margin: an event's range ends 5 s after it; one further ahead is not waited
README_TEMPLATE = Path(__file__).with_name("README-district-vi.txt")


@dataclass(frozen=True)
class DistrictExportSource:
    zone: ZoneInfo
    key: StationKey
    stations: dict[str, StationLink]


def build_district_export(source: DistrictExportSource, case: DistrictCase, by: str, out: Path,
                          progress: Progress, cancelled: Callable[[], bool]) -> None:
    """Write the district export of `case` to `out`; ExportRefused when a post cannot give its export."""
    involved = case.stations()
    if not involved:
        raise ExportRefused(f"district case {case.id} has no items")
    links = {station: _link(source, case, station) for station in involved}
    held = {station: {(i.post_item_id, i.camera, i.start_ms, i.end_ms) for i in case.items if i.station == station}
            for station in involved}
    asked = {station: ask_post_export(links[station], case.mirrors[station], held[station]) for station in involved}
    parts: list[PostExport] = []
    try:  # each post's export is kept beside `out` while the ZIP is written (`.partial`: gone at a restart)
        for number, station in enumerate(involved):
            share = _share(progress, number, len(involved))
            parts.append(fetch_post_export(links[station], asked[station], case.mirrors[station], held[station],
                                           out.with_name(f"{out.name}-{station}.partial"), share, cancelled))
        if cancelled():
            raise ExportCancelled()
        _write(source, case, by, out, parts)
    finally:
        for station in involved:
            out.with_name(f"{out.name}-{station}.partial").unlink(missing_ok=True)


def wait_for_the_ends(case: DistrictCase, cancelled: Callable[[], bool]) -> None:
    """Before the posts are asked (the job `waiting`): wait while an item's end is still ahead, for at most
    ENDS_WAIT_MS and the recording margin. Each post then reads its footage after the end (its own wait covers what
    it is still writing), and the district's export, read after the ends, is not built again once they have passed
    (nvr/evidence/jobs.py)."""
    wait_for_recording(case.items, lambda _camera, end_ms: end_ms >= now_ms(), ENDS_WAIT_MS, cancelled)


def _link(source: DistrictExportSource, case: DistrictCase, station: str) -> StationLink:
    if station not in source.stations:
        raise ExportRefused(f"station {station} is no longer in the district's configuration")
    if station not in case.mirrors:
        raise ExportRefused(f"station {station} holds no case mirroring district case {case.id}")
    return source.stations[station]


def _share(progress: Progress, done: int, total: int) -> Progress:
    return lambda share: progress((done + share) / total)


def _write(source: DistrictExportSource, case: DistrictCase, by: str, out: Path, parts: list[PostExport]) -> None:
    exported_ms = now_ms()
    local = datetime.fromtimestamp(exported_ms / 1000, UTC).astimezone(source.zone)
    body = _body(source, case, by, exported_ms, parts)
    documents = [(DISTRICT_PUBLIC_KEY, public_pem(source.key.public).encode()), (README, _readme(body))]
    files = [{"name": f"{STATIONS}/{part.station}.zip", "bytes": part.bytes, "sha256": part.sha256} for part in parts]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for part in parts:
            with part.path.open("rb") as inner, archive.open(zip_entry(f"{STATIONS}/{part.station}.zip", local), "w",
                                                              force_zip64=True) as member:
                shutil.copyfileobj(inner, member, CHUNK)
        seal(archive, local, source.key, body, files, documents)


def _body(source: DistrictExportSource, case: DistrictCase, by: str, exported_ms: int,
          parts: list[PostExport]) -> dict[str, Any]:
    zone = source.zone
    return {
        "format": DISTRICT_FORMAT,
        "district": {"timezone": zone.key, "public_key": public_base64(source.key.public),
                     "key_fingerprint": fingerprint(source.key.public)},
        "case": {"id": case.id, "title": case.title, "note": case.note, "status": case.status,
                 "created": instant(case.created_ms, zone), "created_by": case.created_by},
        "exported_by": by,
        "exported_at": instant(exported_ms, zone),
        "stations": [{
            "id": part.station, "title": part.title, "case": part.post_case_id,
            "public_key": part.public_key, "key_fingerprint": part.key_fingerprint,
            "export": {"file": f"{STATIONS}/{part.station}.zip", "bytes": part.bytes, "sha256": part.sha256,
                       "manifest_sha256": part.manifest_sha256, "manifest_sig": part.manifest_sig},
            "items": [{"item": item.id, "camera": item.camera, "post_item": item.post_item_id, "note": item.note,
                       "requested": {"start": instant(item.start_ms, zone), "end": instant(item.end_ms, zone)}}
                      for item in case.items if item.station == part.station],
        } for part in parts],
    }


def _readme(body: dict[str, Any]) -> bytes:
    stations = "\n".join(f"  - {s['export']['file']}: {s['title']} ({s['id']}), khóa {s['key_fingerprint']}"
                         for s in body["stations"])
    text = Template(README_TEMPLATE.read_text(encoding="utf-8")).substitute(
        case_id=body["case"]["id"], case_title=body["case"]["title"], exported_by=body["exported_by"],
        exported_at=body["exported_at"]["local"], stations=stations,
        fingerprint=body["district"]["key_fingerprint"])
    return text.replace("\n", "\r\n").encode()
