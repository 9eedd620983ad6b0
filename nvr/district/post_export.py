"""One post's signed export of the case that mirrors a district case: asked of the post through its own
export API with the district's machine key, waited for, downloaded to disk as it streams (never whole in
memory) and checked with the post's public key before the district puts it in its own ZIP. Runs in the
district's export thread, with a blocking client of its own."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from nvr.district.config import StationLink
from nvr.district.relay import client_options, post_detail
from nvr.evidence.export import ExportCancelled, Progress
from nvr.evidence.jobs import ExportRefused
from nvr.evidence.signing import KeyFormatError, load_public_key
from nvr.evidence.verify import CHUNK, manifest_seal, verify_export
from storage.camera_store import set_aside_from

POLL_SECONDS = 0.5
BUILD_SECONDS = 4 * 3600.0  # a post's export of 100 items of up to a day each is long; this is only a backstop
BUILD_SHARE = 0.7  # of a post's part of the progress: its build; the rest is the download
ASKS = 3  # times a post is asked for an export it keeps forgetting (ExportForgotten) before the district gives up
Held = tuple[int, str, int, int]  # an item of a post's case: its id there, camera, start and end (ms)


@dataclass(frozen=True)
class PostExport:
    """A post's export on the district's disk, and what the district's manifest says of it."""

    station: str
    title: str
    post_case_id: int
    path: Path
    bytes: int
    sha256: str
    manifest_sha256: str
    manifest_sig: str  # base64
    public_key: str  # base64 of the raw key, as the post's GET /api/station gave it
    key_fingerprint: str


class ExportForgotten(ExportRefused):
    """The post no longer has the export it was asked for. A post forgets a built export when an item of the case
    ends after the build began and that end has passed since (footage may have come that the export lacks:
    nvr/evidence/jobs.py, `_footage_came`), or when its case changed; asking again builds it anew or refuses."""

    def __init__(self, station: str, post_case_id: int) -> None:
        super().__init__(f"station {station}: its export of case {post_case_id} was forgotten there")


def post_client(link: StationLink) -> httpx.Client:
    return httpx.Client(**client_options(link))


def ask_post_export(link: StationLink, post_case_id: int, items: set[Held]) -> dict[str, Any]:
    """Start the post's export of its case (so the posts build theirs side by side), once it is seen to hold
    exactly `items`; the post's `GET /api/station` answer, with its public key."""
    station = link.id
    try:
        with post_client(link) as client:
            identity = _json(client.get("/api/station"), station)
            if identity.get("id") != station:
                raise ExportRefused(f"station {station}: the box there is station {identity.get('id')!r}")
            held = _json(client.get(f"/api/cases/{post_case_id}"), station)["items"]
            given = {(item_id, start, end): camera for item_id, camera, start, end in items}
            if len(held) != len(given) or not all(
                    _same_camera(i["camera"], given.get((i["id"], i["start_ms"], i["end_ms"]))) for i in held):
                raise ExportRefused(f"station {station}: its case {post_case_id} no longer holds the district "
                                    "case's items as they were given (changed at the post)")
            _json(client.post(f"/api/cases/{post_case_id}/export"), station)
    except httpx.HTTPError as exc:
        raise ExportRefused(f"station {station} is unreachable ({type(exc).__name__})") from None
    return identity


def _same_camera(held: str, given: str | None) -> bool:
    """Whether the post's item names the district item's camera: by its name, or by the name its footage was set
    aside under when the camera was removed and the name taken again (storage/camera_store.py)."""
    return given is not None and (held == given or set_aside_from(held, given))


def fetch_post_export(link: StationLink, identity: dict[str, Any], post_case_id: int, items: set[Held], out: Path,
                      progress: Progress, cancelled: Callable[[], bool]) -> PostExport:
    """The post's export of its case `post_case_id` (asked with `ask_post_export`, holding `items`) at `out`,
    checked with the post's key; ExportRefused naming the post and the reason."""
    station = link.id
    try:
        key = load_public_key(str(identity.get("public_key", "")))
    except KeyFormatError as exc:
        raise ExportRefused(f"station {station}: its GET /api/station gives no usable public key ({exc})") from None
    for asked in range(1, ASKS + 1):
        try:
            with post_client(link) as client:
                _wait_until_built(client, station, post_case_id, progress, cancelled)
                size, sha256 = _download(client, station, post_case_id, out, progress, cancelled)
            break
        except ExportForgotten as forgotten:
            if asked == ASKS:
                raise ExportRefused(f"{forgotten}, {ASKS} times: footage kept coming while it was built") from None
            identity = ask_post_export(link, post_case_id, items)  # the items checked again, the build asked again
        except httpx.HTTPError as exc:
            raise ExportRefused(f"station {station} is unreachable ({type(exc).__name__})") from None
    verdict = verify_export(out, key)
    if not verdict.ok or verdict.station != station:
        raise ExportRefused(f"station {station}: its export does not verify with its key: "
                            f"{verdict.failure or 'it is of station ' + str(verdict.station)}")
    manifest_sha256, manifest_sig = manifest_seal(out)
    return PostExport(station, str(identity.get("title") or station), post_case_id, out, size, sha256,
                      manifest_sha256, manifest_sig, str(identity["public_key"]), str(identity.get("key_fingerprint")))


def _wait_until_built(client: httpx.Client, station: str, post_case_id: int, progress: Progress,
                      cancelled: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BUILD_SECONDS
    while True:
        state = _json(client.get(f"/api/cases/{post_case_id}/export"), station)
        if state.get("state") == "ready":
            return
        if state.get("state") == "failed":
            raise ExportRefused(f"station {station} refused the export of its case {post_case_id}: "
                                f"{state.get('error')}")
        if state.get("state") == "none":
            raise ExportForgotten(station, post_case_id)
        if state.get("state") not in ("queued", "running"):
            raise ExportRefused(f"station {station}: its export of case {post_case_id} is {state.get('state')!r}")
        if time.monotonic() > deadline:
            raise ExportRefused(f"station {station}: its export of case {post_case_id} took longer than "
                                f"{BUILD_SECONDS / 3600:.0f} hours")
        progress(BUILD_SHARE * float(state.get("progress") or 0.0))
        if cancelled():
            raise ExportCancelled()
        time.sleep(POLL_SECONDS)


def _download(client: httpx.Client, station: str, post_case_id: int, out: Path, progress: Progress,
              cancelled: Callable[[], bool]) -> tuple[int, str]:
    """Size and SHA-256 of the export, written to `out` as it arrives."""
    digest, size = hashlib.sha256(), 0
    with client.stream("GET", f"/api/cases/{post_case_id}/export.zip") as answer, out.open("wb") as file:
        if answer.status_code == 202:  # forgotten since it was seen built: the post builds it again
            answer.read()
            raise ExportForgotten(station, post_case_id)
        if answer.status_code != 200:
            answer.read()
            raise ExportRefused(_refusal(station, answer))
        total = int(answer.headers.get("content-length") or 0) or None
        for chunk in answer.iter_bytes(CHUNK):
            file.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            if total:
                progress(BUILD_SHARE + (1 - BUILD_SHARE) * size / total)
            if cancelled():
                raise ExportCancelled()
    return size, digest.hexdigest()


def _json(answer: httpx.Response, station: str) -> dict[str, Any]:
    if answer.status_code not in (200, 202):
        raise ExportRefused(_refusal(station, answer))
    found: dict[str, Any] = answer.json()
    return found


def _refusal(station: str, answer: httpx.Response) -> str:
    detail = post_detail(answer)
    where = answer.request.url.path
    return f"station {station} answered {answer.status_code} to {where}" + (f": {detail}" if detail else "")
