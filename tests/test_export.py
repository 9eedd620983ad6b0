"""Signed case exports and `nvr verify`, end to end: two RTSP cameras recorded by a running station, a case
of both, the ZIP built in the background, every clip decoded, and the verifier shown each kind of tampering."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from nvr.evidence.jobs import ExportJobs
from nvr.evidence.verify import verify_export
from nvr.evidence.wall_clock import caption_text
from storage.cases import Case
from storage.clock import now_ms
from storage.custody import sha256_file
from storage.models import SegmentRow
from tests.conftest import start_station, station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.support.web import chromium
from tests.test_auth import login

GOP_S = 1.0  # the test cameras send a keyframe a second
FRAME_S = 1 / 15
Exported = tuple[bytes, dict[str, tuple[int, int]]]  # the ZIP, and each camera's requested range


class Recorded:
    def __init__(self, station: Any, client: Any, folder: Path) -> None:
        self.station, self.client, self.folder = station, client, folder

    def closed_segments(self, camera: str) -> list[Any]:
        return self.station.index.segments(camera, 0, 2**62)

    def export(self, case_id: int) -> bytes:
        """GET export.zip until it is built (202 with progress meanwhile); the ZIP's bytes."""
        first = self.client.get(f"/api/cases/{case_id}/export.zip")
        assert first.status_code in (200, 202), first.text
        if first.status_code == 202:
            assert first.json()["state"] in ("queued", "running") and 0 <= first.json()["progress"] <= 1
        done = wait_for(lambda: (r := self.client.get(f"/api/cases/{case_id}/export.zip")).status_code == 200 and r,
                        60, "the export to be built")
        assert done.headers["content-type"] == "application/zip"
        return bytes(done.content)


@pytest.fixture(scope="module")
def recorded(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    """A station recording cam0 and cam1 in 2-second segments, with at least 12 s of each indexed."""
    folder = tmp_path_factory.mktemp("export")
    config = station_config(folder, [{"name": "cam0", "record_url": cameras.url("cam0"), "title": "Hẻm 4",
                                      "location": "Trước nhà số 12"},
                                     {"name": "cam1", "record_url": cameras.url("cam1"), "title": "Ngã tư"}])
    started: list[Any] = []
    station, client = start_station(config, started)
    try:
        found = Recorded(station, client, folder)
        for name in ("cam0", "cam1"):
            wait_for(lambda n=name: len(found.closed_segments(n)) >= 6, 40, f"six segments of {name}")
        yield found
    finally:
        station.stop()


def new_case(recorded: Recorded, items: list[dict[str, Any]], title: str = "Mất xe máy hẻm 4") -> int:
    response = recorded.client.post("/api/cases", json={"title": title, "note": "Báo lúc 06:10", "items": items})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def middle_range(recorded: Recorded, camera: str, first: int, last: int) -> tuple[int, int]:
    """From 0.4 s into closed segment `first` to 0.4 s before the end of segment `last`."""
    segments = recorded.closed_segments(camera)
    return segments[first].start_ms + 400, segments[last].end_ms - 400


def nvr_verify(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nvr", "verify", *args], capture_output=True, text=True, timeout=60,
                          check=False)


def assert_covers_its_range(body: bytes, clip: dict[str, Any]) -> None:
    """An exported clip (its manifest entry `clip`) decodes from the keyframe at or before the requested start
    (within one GOP) to the requested end."""
    start_ms, end_ms = (clip["requested"][end]["unix_ms"] for end in ("start", "end"))
    actual = clip["actual"]["start"]["unix_ms"]
    assert start_ms - GOP_S * 1000 - 5 <= actual <= start_ms, "the clip starts at the keyframe before the start"
    with av.open(io.BytesIO(body), "r") as container:
        video = container.streams.video[0]
        assert video.time_base is not None
        times = [float(f.pts * video.time_base) for f in container.decode(video) if f.pts is not None]
    assert times[0] == 0 and len(times) > 10
    covered = (end_ms - actual) / 1000
    assert covered - GOP_S <= times[-1] + FRAME_S <= covered + FRAME_S, "the clip ends at the requested end"


def test_every_segment_is_hashed_as_it_is_recorded(recorded: Recorded) -> None:
    for camera in ("cam0", "cam1"):
        segments = recorded.closed_segments(camera)
        assert segments and all(s.sha256 == sha256_file(recorded.station.segments_dir / s.path) for s in segments)


@pytest.fixture(scope="module")
def exported(recorded: Recorded) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """A case of cam0 and cam1 over different ranges, exported through GET export.zip."""
    ranges = {"cam0": middle_range(recorded, "cam0", 1, 3), "cam1": middle_range(recorded, "cam1", 2, 4)}
    case_id = new_case(recorded, [{"camera": camera, "start": start / 1000, "end": end / 1000, "note": camera}
                                  for camera, (start, end) in ranges.items()])
    return recorded.export(case_id), ranges


def test_a_two_camera_case_exports_one_signed_clip_per_item(recorded: Recorded,
                                                            exported: Exported) -> None:
    data, ranges = exported
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    station = recorded.client.get("/api/station").json()
    assert manifest["station"]["public_key"] == station["public_key"]
    assert manifest["exported_by"] == "duty" and manifest["case"]["title"] == "Mất xe máy hẻm 4"
    assert [c["camera"] for c in manifest["clips"]] == ["cam0", "cam1"]
    assert manifest["clips"][0]["title"] == "Hẻm 4" and manifest["clips"][0]["location"] == "Trước nhà số 12"
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(archive.namelist()) == {*listed, "manifest.json", "manifest.sig"}
    assert {"index.html", "README-vi.txt", "station-public-key.pem"} <= set(listed)
    zone = recorded.station.config.zone
    for clip in manifest["clips"]:
        body = archive.read(clip["file"])
        assert hashlib.sha256(body).hexdigest() == clip["sha256"] == listed[clip["file"]]["sha256"]
        assert len(body) == clip["bytes"]
        start_ms, end_ms = ranges[clip["camera"]]
        assert clip["requested"]["start"]["unix_ms"] == start_ms and clip["requested"]["end"]["unix_ms"] == end_ms
        actual = clip["actual"]["start"]["unix_ms"]
        assert_covers_its_range(body, clip)
        segments = recorded.closed_segments(clip["camera"])
        used = [s for s in segments if s.start_ms < end_ms and s.end_ms > start_ms]
        assert [s["file"] for s in clip["segments"]] == [s.path for s in used]
        assert all(s["sha256"] == s["recorded_sha256"] == u.sha256 for s, u in zip(clip["segments"], used, strict=True))

        with av.open(io.BytesIO(body), "r") as container:
            text = container.streams.subtitles[0]
            assert text.time_base is not None
            captions = [(float((p.pts or 0) * text.time_base), bytes(p)[2:].decode()) for p in container.demux(text)
                        if p.size > 2]
        assert captions[0] == (0.0, caption_text(actual - actual % 1000, zone))
        second = captions[1]  # the next whole second of the station's clock
        assert abs(second[0] - (1000 - actual % 1000) / 1000) < 0.002
        assert second[1] == caption_text(actual - actual % 1000 + 1000, zone)
    player = archive.read("index.html").decode()
    assert "http://" not in player and "https://" not in player and " src=\"http" not in player
    assert manifest["clips"][0]["file"] in player, "the player knows the clips"
    readme = archive.read("README-vi.txt").decode()
    assert "nvr verify" in readme and station["key_fingerprint"] in readme


def test_the_offline_player_plays_the_clips_together_on_the_wall_clock(tmp_path: Path, exported: Exported) -> None:
    with zipfile.ZipFile(io.BytesIO(exported[0])) as archive:
        archive.extractall(tmp_path)
    requests: list[str] = []
    with chromium() as browser:
        page = browser.new_page(bypass_csp=True)  # the page forbids eval, which Playwright's checks use
        page.on("request", lambda request: requests.append(request.url))
        page.goto((tmp_path / "index.html").as_uri())
        page.wait_for_function("[...document.querySelectorAll('video')].every(v => v.readyState >= 2)", timeout=15_000)
        later = max(start for start, _end in exported[1].values()) + 1500  # both cameras have pictures then
        page.click("#play")
        page.wait_for_function(f"now > {later}", timeout=15_000)
        drift = page.evaluate("clips.map(c => c.start + c.video.currentTime * 1000 - now)")
        assert len(drift) == 2 and all(abs(d) < 250 for d in drift), drift
        assert page.evaluate("clips.every(c => !c.video.paused)")
        page.click("#play")  # pause, then jump back 1 s: every picture follows the clock
        page.keyboard.press("ArrowLeft")
        drift = page.evaluate("clips.map(c => c.start + c.video.currentTime * 1000 - now)")
        assert all(abs(d) < 50 for d in drift), drift
    assert requests and all(url.startswith("file://") for url in requests), requests


def test_the_offline_player_goes_over_the_time_no_clip_covers_and_plays_a_clip_from_its_row(
        recorded: Recorded, tmp_path: Path) -> None:
    """Two ranges of one camera minutes (here seconds) apart: playing on from the first does not sit through the
    stretch between them; each clip's row plays it."""
    first, second = middle_range(recorded, "cam0", 0, 1), middle_range(recorded, "cam0", 4, 5)
    case_id = new_case(recorded, [{"camera": "cam0", "start": start / 1000, "end": end / 1000}
                                  for start, end in (first, second)], title="Hai đoạn")
    with zipfile.ZipFile(io.BytesIO(recorded.export(case_id))) as archive:
        archive.extractall(tmp_path)
    with chromium() as browser:
        page = browser.new_page(bypass_csp=True)  # the page forbids eval, which Playwright's checks use
        page.goto((tmp_path / "index.html").as_uri())
        page.wait_for_function("[...document.querySelectorAll('video')].every(v => v.readyState >= 2)", timeout=15_000)
        starts = page.evaluate("clips.map(c => c.start)")
        ends = page.evaluate("clips.map(c => c.end)")
        assert starts[1] - ends[0] > 2000, "a stretch between the clips"
        between = (ends[0] + starts[1]) // 2
        page.evaluate(f"jump({between})")
        page.click("#play")
        page.wait_for_function(f"now !== {between}", timeout=5_000)
        assert page.evaluate("now") >= starts[1], "played on at the next clip at once"
        page.click("#play")
        page.locator("#clips .play-clip").first.click()
        assert page.evaluate("playing") and abs(page.evaluate("now") - starts[0]) < 1000
        assert "T" not in page.inner_text("#summary").split("lúc ")[1][:12], "the export's time as people read it"


def test_the_signature_checks_with_openssl_alone(tmp_path: Path,
                                                 exported: Exported) -> None:
    """What README-vi.txt tells an investigator without our software to run."""
    with zipfile.ZipFile(io.BytesIO(exported[0])) as archive:
        archive.extractall(tmp_path)
    done = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "station-public-key.pem", "-rawin",
                           "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr


def rewritten(data: bytes, name: str, change: Any) -> bytes:
    """The ZIP with member `name` passed through `change`, written afresh (valid CRC-32s: a careful forger)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info, change(body) if info.filename == name else body)
    return out.getvalue()


def flip(body: bytes, at: int) -> bytes:
    return body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1:]


def assert_verify_refuses_every_change(data: bytes, folder: Path, key: str) -> None:
    """`nvr verify --key KEY` refuses the export `data` after one byte of a clip, of the manifest or of the
    signature is changed (in place, or with the ZIP rewritten with good CRCs) or the player is replaced, and
    names the member that fails."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        clip = archive.getinfo(json.loads(archive.read("manifest.json"))["clips"][-1]["file"])
        manifest = archive.getinfo("manifest.json")
        signature = archive.getinfo("manifest.sig")

    def in_place(info: zipfile.ZipInfo, at: int) -> bytes:
        """One byte of a member changed inside the ZIP as it is (its CRC-32 then fails too)."""
        name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
        return flip(data, info.header_offset + 30 + name_length + extra_length + at)

    tampered = {
        "clip byte": (in_place(clip, clip.file_size // 2), clip.filename),
        "clip byte, CRC redone": (rewritten(data, clip.filename, lambda b: flip(b, len(b) // 2)), clip.filename),
        "manifest byte": (in_place(manifest, 40), "manifest."),
        "manifest byte, CRC redone": (rewritten(data, "manifest.json", lambda b: flip(b, 40)), "manifest.sig"),
        "signature byte": (in_place(signature, 10), "manifest.sig"),
        "signature byte, CRC redone": (rewritten(data, "manifest.sig", lambda b: flip(b, 10)), "manifest.sig"),
        "player replaced": (rewritten(data, "index.html", lambda b: b.replace(b"<title>", b"<title>X")), "index.html"),
    }
    for what, (changed, named) in tampered.items():
        path = folder / "changed.zip"
        path.write_bytes(changed)
        refused = nvr_verify(str(path), "--key", key)
        assert refused.returncode == 1, what
        assert refused.stdout.startswith(f"FAILED {named}"), (what, refused.stdout)


def test_nvr_verify_accepts_the_export_and_rejects_any_change(recorded: Recorded, tmp_path: Path,
                                                              exported: Exported) -> None:
    data = exported[0]
    original = tmp_path / "case.zip"
    original.write_bytes(data)
    accepted = nvr_verify(str(original))
    assert accepted.returncode == 0 and accepted.stdout == "ok\n", accepted.stdout + accepted.stderr
    assert "the key inside the export" in accepted.stderr
    station = recorded.client.get("/api/station").json()
    with_key = nvr_verify(str(original), "--key", station["public_key"])
    assert with_key.returncode == 0 and with_key.stdout == "ok\n" and "the key given" in with_key.stderr
    pem = tmp_path / "station.pem"
    pem.write_text(station["public_key_pem"])
    assert nvr_verify(str(original), "--key", str(pem)).returncode == 0

    assert_verify_refuses_every_change(data, tmp_path, station["public_key"])
    extra = io.BytesIO(data)
    with zipfile.ZipFile(extra, "a") as archive:
        archive.writestr("clips/99-forged.mp4", b"not recorded here")
    (tmp_path / "extra.zip").write_bytes(extra.getvalue())
    refused = nvr_verify(str(tmp_path / "extra.zip"))
    assert refused.returncode == 1 and refused.stdout.startswith("FAILED clips/99-forged.mp4: not listed")
    other_key = nvr_verify(str(original), "--key", "A" * 43 + "=")
    assert other_key.returncode == 1 and other_key.stdout.startswith("FAILED manifest.sig: the signature")


def test_nvr_verify_refuses_a_container_changed_around_intact_members(tmp_path: Path, exported: Exported) -> None:
    """What the signature does not cover, the ZIP itself: a forged copy put in front of the genuine one (streaming
    readers extract the forgery; zipfile reads the genuine directory at the end), a comment, a local header that
    differs from the directory, a compressed or encrypted member. Each verified "ok", or raised a traceback."""
    data = exported[0]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        first = archive.infolist()[0]
        members = [(info, archive.read(info)) for info in archive.infolist()]
        directory = archive.start_dir  # the first entry of the directory: the first member's
    forged = io.BytesIO()
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr(first.filename, b"FORGED FOOTAGE")
    recompressed = io.BytesIO()
    with zipfile.ZipFile(recompressed, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, body in members:
            archive.writestr(info.filename, body)
    commented = io.BytesIO(data)
    with zipfile.ZipFile(commented, "a") as archive:
        archive.comment = b"edited by officer X"
    crc_at = first.header_offset + 14  # the local header's CRC-32, the directory's left as it was
    encrypted = bytearray(data)
    encrypted[first.header_offset + 6] |= 1
    encrypted[directory + 8] |= 1
    changed = {"prepended": forged.getvalue() + data, "compressed": recompressed.getvalue(),
               "commented": commented.getvalue(), "local header": flip(data, crc_at), "encrypted": bytes(encrypted)}
    for what, body in changed.items():  # in this process: the command's answer to a verdict is tested above
        path = tmp_path / f"{what}.zip"
        path.write_bytes(body)
        verdict = verify_export(path)
        assert not verdict.ok and "not laid out as a station writes an export" in str(verdict.failure), (what, verdict)


def test_an_export_refuses_a_segment_changed_after_recording(recorded: Recorded) -> None:
    start_ms, end_ms = middle_range(recorded, "cam1", 5, 5)
    victim = recorded.closed_segments("cam1")[5]
    case_id = new_case(recorded, [{"camera": "cam1", "start": start_ms / 1000, "end": end_ms / 1000}], "Sửa hình")
    path = recorded.station.segments_dir / victim.path
    body = path.read_bytes()
    path.write_bytes(flip(body, len(body) - 100))  # one byte of the last picture
    try:
        started = recorded.client.post(f"/api/cases/{case_id}/export")
        assert started.status_code == 202
        state = wait_for(lambda: (r := recorded.client.get(f"/api/cases/{case_id}/export").json())["state"] == "failed"
                         and r, 30, "the export to be refused")
        assert f"segment {victim.path} changed since it was recorded" in state["error"]
        download = recorded.client.get(f"/api/cases/{case_id}/export.zip")
        assert download.status_code == 409 and victim.path in download.json()["detail"]
        assert not list((recorded.folder / "data" / "exports").glob(f"case-{case_id}-*"))
    finally:
        path.write_bytes(body)
    admin = recorded.station.audit.entries(start_ms=0, end_ms=2**62, action="case_export_failed")
    assert admin and victim.path in admin[0].detail and admin[0].username == "duty"


def test_footage_recorded_before_hashes_were_kept_is_exported_and_said_so(recorded: Recorded, tmp_path: Path) -> None:
    start_ms, end_ms = middle_range(recorded, "cam0", 4, 4)
    old = recorded.closed_segments("cam0")[4]
    with recorded.station.index.session() as session, session.begin():
        session.execute(update(SegmentRow).where(SegmentRow.id == old.id).values(sha256=None))
    case_id = new_case(recorded, [{"camera": "cam0", "start": start_ms / 1000, "end": end_ms / 1000}], "Cũ")
    data = recorded.export(case_id)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    [segment] = manifest["clips"][0]["segments"]
    assert segment["recorded_sha256"] is None and segment["sha256"] == sha256_file(
        recorded.station.segments_dir / old.path)
    assert "1 segments were recorded before the station kept hashes" in manifest["notes"][0]
    (tmp_path / "old.zip").write_bytes(data)
    assert nvr_verify(str(tmp_path / "old.zip")).returncode == 0


def test_an_export_says_which_footage_was_stamped_before_a_step_of_the_clock(recorded: Recorded,
                                                                            tmp_path: Path) -> None:
    """A forward step of the station's clock after some of the footage: the manifest gives it, machine-readable and
    as a note the player shows, so that whoever reads the footage knows to add the step. A step before all of the
    exported footage is not listed, nor one of a later boot (whose span begins after the footage: found in
    review)."""
    from storage.clock_steps import ClockStep, ClockSteps
    from storage.models import ClockStepRow

    start_ms, end_ms = middle_range(recorded, "cam0", 2, 3)
    stepped_at = recorded.closed_segments("cam0")[2].end_ms
    steps = [ClockStep(stepped_at, stepped_at + 3_600_000, since_ms=0),
             ClockStep(start_ms - 60_000, start_ms + 60_000, since_ms=0),
             ClockStep(end_ms + 600_000, end_ms + 4_200_000, since_ms=end_ms + 300_000)]
    station = recorded.station
    with station.index.session() as session, session.begin():  # what a retention pass reads them from, when one runs
        session.add_all([ClockStepRow(station=station.index.station, before_ms=s.before_ms, after_ms=s.after_ms,
                                      since_ms=s.since_ms) for s in steps])
    station.retention.clock_steps = ClockSteps(steps)
    try:
        case_id = new_case(recorded, [{"camera": "cam0", "start": start_ms / 1000, "end": end_ms / 1000}], "Giờ")
        data = recorded.export(case_id)
    finally:
        station.retention.clock_steps = ClockSteps()
        with station.index.session() as session, session.begin():
            session.execute(delete(ClockStepRow))
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert [(s["since"]["unix_ms"], s["before"]["unix_ms"], s["after"]["unix_ms"], s["seconds"])
            for s in manifest["clock_steps"]] == [(0, stepped_at, stepped_at + 3_600_000, 3600.0)]
    assert any("chỉnh tiến 3600 giây" in note for note in manifest["notes"]), manifest["notes"]
    (tmp_path / "stepped.zip").write_bytes(data)
    assert nvr_verify(str(tmp_path / "stepped.zip")).returncode == 0


def test_an_export_is_served_until_its_case_changes(recorded: Recorded) -> None:
    start_ms, end_ms = middle_range(recorded, "cam0", 2, 2)
    case_id = new_case(recorded, [{"camera": "cam0", "start": start_ms / 1000, "end": end_ms / 1000}], "Lại")
    first = recorded.export(case_id)
    assert recorded.client.get(f"/api/cases/{case_id}/export").json()["state"] == "ready"
    assert recorded.client.get(f"/api/cases/{case_id}/export.zip").content == first, "the same ZIP, not rebuilt"
    exports = recorded.folder / "data" / "exports"
    after_restart: ExportJobs[Case] = ExportJobs(exports, lambda *_args: None, lambda _job: None)  # a later run
    found = after_restart.current(recorded.station.cases.get(case_id))
    assert found is not None and found.state == "ready" and found.path.read_bytes() == first
    after_restart.stop()
    assert recorded.client.patch(f"/api/cases/{case_id}", json={"status": "closed"}).status_code == 200
    assert recorded.client.get(f"/api/cases/{case_id}/export.zip").status_code == 200, "closing changes no content"
    assert recorded.client.patch(f"/api/cases/{case_id}", json={"note": "thêm"}).status_code == 200
    assert recorded.client.get(f"/api/cases/{case_id}/export").json()["state"] == "none"
    second = recorded.export(case_id)
    assert json.loads(zipfile.ZipFile(io.BytesIO(second)).read("manifest.json"))["case"]["note"] == "thêm"
    assert len(list(exports.glob(f"case-{case_id}-*.zip"))) == 1, "the newer export replaced the older"
    assert recorded.client.delete(f"/api/cases/{case_id}").status_code == 204
    assert not list(exports.glob(f"case-{case_id}-*"))


def test_an_export_whose_zip_was_removed_is_built_again(recorded: Recorded) -> None:
    """The built ZIP removed from data/exports (disk space freed by hand): the export is no longer ready, and
    export.zip builds it again (202) instead of failing, with no download audited for the ZIP that is gone."""
    start_ms, end_ms = middle_range(recorded, "cam1", 1, 1)
    case_id = new_case(recorded, [{"camera": "cam1", "start": start_ms / 1000, "end": end_ms / 1000}], "Xoá tệp")
    recorded.export(case_id)
    [built] = (recorded.folder / "data" / "exports").glob(f"case-{case_id}-*.zip")
    built.unlink()

    def downloads() -> int:
        entries = recorded.station.audit.entries(start_ms=0, end_ms=2**62, action="case_export_download")
        return sum(entry.detail.startswith(f"case {case_id} ") for entry in entries)

    counted = downloads()
    assert recorded.client.get(f"/api/cases/{case_id}/export").json()["state"] == "none"
    again = recorded.client.get(f"/api/cases/{case_id}/export.zip")
    assert again.status_code == 202 and again.json()["state"] in ("queued", "running"), again.text
    assert downloads() == counted, "no download of a ZIP that is gone"
    rebuilt = zipfile.ZipFile(io.BytesIO(recorded.export(case_id)))
    assert json.loads(rebuilt.read("manifest.json"))["case"]["id"] == case_id and built.exists()


def test_an_export_of_the_last_seconds_waits_for_the_segment_being_written(recorded: Recorded) -> None:
    """An officer exports what a camera has just shown: the end asked for lies in the segment still being written
    (over a second of it), and the clip still reaches it, the export having waited for that segment to close."""
    wait_for(lambda: now_ms() - recorded.closed_segments("cam1")[-1].end_ms >= 1_200, 10,
             "more than a second of cam1 in the segment being written")
    end_ms = now_ms()
    case_id = new_case(recorded, [{"camera": "cam1", "start": (end_ms - 4_000) / 1000, "end": end_ms / 1000}],
                       "Vừa xảy ra")
    archive = zipfile.ZipFile(io.BytesIO(recorded.export(case_id)))
    clip = json.loads(archive.read("manifest.json"))["clips"][0]
    assert clip["requested"]["end"]["unix_ms"] == end_ms
    assert clip["actual"]["end"]["unix_ms"] >= end_ms - 200, "the clip stops short of the end asked for"
    assert_covers_its_range(archive.read(clip["file"]), clip)


def test_a_camera_moved_after_recording_is_named_by_where_it_stood_then(recorded: Recorded) -> None:
    """cam1 is moved to the market and its location edited: an export of what it recorded before names its old place
    (none was set), one of what it recorded since names the market (a review: exports named the place it has now)."""
    before_ms, last_end = middle_range(recorded, "cam1", 1, 2)
    admin = TestClient(recorded.client.app)
    admin.headers["Authorization"] = f"Bearer {login(admin, 'admin', os.environ['NVR_ADMIN_PASSWORD']).json()['token']}"
    moved = admin.put("/api/cameras/cam1", json={"location": "Chợ Bến Thành, cổng 3"})
    assert moved.status_code == 200, moved.text
    moved_ms = now_ms()
    wait_for(lambda: any(s.start_ms > moved_ms for s in recorded.closed_segments("cam1")), 30, "footage after the move")
    after = next(s for s in recorded.closed_segments("cam1") if s.start_ms > moved_ms)

    def exported_location(start_ms: int, end_ms: int) -> str:
        case_id = new_case(recorded, [{"camera": "cam1", "start": start_ms / 1000, "end": end_ms / 1000}], "Dời")
        manifest = json.loads(zipfile.ZipFile(io.BytesIO(recorded.export(case_id))).read("manifest.json"))
        clip = manifest["clips"][0]
        assert clip["title"] == "Ngã tư"
        return str(clip["location"])

    assert exported_location(before_ms, last_end) == ""
    assert exported_location(after.start_ms + 100, after.end_ms - 100) == "Chợ Bến Thành, cổng 3"
