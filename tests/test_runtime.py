"""The station's processes: a recorder killed with SIGKILL comes back alone and quickly while the cameras of
the other recorders never stop; the work-picture table on its own (the catalog writer: test_catalog_journal.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av
import numpy as np
import pytest

from detect.frames import CHROMA_GRID, reduce_luma, sample_chroma
from ingest.frame_tap import detection_planes
from nvr.runtime.detect_feed import DetectFeed
from nvr.runtime.stop_request import StopRequest
from nvr.runtime.work_pictures import WorkPictureTable
from nvr.station import RECORDER_LOST
from tests.conftest import station_config, wait_for
from tests.support.media import encode_video
from tests.support.rtsp import RtspServer

# Their assertions are about pace and time: `make test` runs them alone, after the parallel tests.
pytestmark = pytest.mark.solo


def status(client, name: str) -> dict:
    return client.get(f"/api/cameras/{name}").json()


def test_a_killed_recorder_is_back_within_5_s_and_the_other_cameras_never_stop(
        cameras: RtspServer, tmp_path: Path, make_station) -> None:
    names = ["a", "b", "c", "d"]  # dealt round two recorders: a and c in one, b and d in the other
    config = station_config(tmp_path,
                            [{"name": n, "record_url": cameras.url(f"cam{k % 2}")} for k, n in enumerate(names)],
                            runtime={"recorder_processes": 2})
    station, client = make_station(config)
    wait_for(lambda: all(len(station.index.segments(n, 0, 2**62)) >= 2 for n in names), 30, "every camera recording")
    victim, survivor = station.recorder_pid("a"), station.recorder_pid("b")
    assert victim is not None and victim == station.recorder_pid("c") and survivor != victim

    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: status(client, "a")["status"] != "online", 5, "the killed recorder's cameras seen as down")
    wait_for(lambda: all(status(client, n)["status"] == "online" for n in ("a", "c")), 5, "a and c back online")
    back_after = time.monotonic() - killed
    assert back_after <= 5.0
    assert station.recorder_pid("a") not in (None, victim) and station.recorder_pid("b") == survivor

    since_kill_ms = round(time.time() * 1000) - round((time.monotonic() - killed) * 1000)
    wait_for(lambda: all(station.index.segments(n, since_kill_ms + 4000, 2**62) for n in names), 20,
             "every camera recording well after the kill")
    for name in ("b", "d"):  # the other recorder's cameras: not one hole
        listing = client.get(f"/api/cameras/{name}/recordings").json()
        assert len(listing["ranges"]) == 1, (name, listing["ranges"], listing["gaps"])
    outages = station.index.outages("a", 0, 2**62)
    assert [(o.reason, o.end_ms is not None) for o in outages] == [(RECORDER_LOST, True)], \
        "the restart is an outage with its reason, closed when the camera was back"
    on_disk = {p.relative_to(config.segments_dir).as_posix() for p in config.segments_dir.glob("a/*/*.mp4")}
    wait_for(lambda: on_disk <= {s.path for s in station.segments("a", 0, 2**62)}, 5,
             "the segment open at the kill indexed by the new recorder")


def write(table: WorkPictureTable, slot: int, luma: np.ndarray, chroma: np.ndarray | None, t: float) -> None:
    """A whole picture into `slot`, as a recorder's feed writes one."""
    writer = table.writer(slot)
    writer.begin()
    writer.luma[...] = luma
    if chroma is not None:
        writer.chroma[...] = chroma
    writer.commit(t, chroma is not None)


def test_work_pictures_reach_the_reader_once_each_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "table.work"
    writer = WorkPictureTable(path, 3, (160, 90), create=True)
    reader = WorkPictureTable(path, 3, (160, 90), create=False)
    try:
        assert reader.read_new() == {}
        luma = np.full((90, 160), 7, np.uint8)
        chroma = np.full((2, 8, 16), 140, np.uint8)
        write(writer, 0, luma, chroma, 10.0)
        write(writer, 2, luma + 1, None, 11.0)
        write(writer, 2, luma + 2, None, 12.0)  # replaces the one not read yet
        found = reader.read_new()
        assert sorted(found) == [0, 2]
        assert found[0].t == 10.0 and int(found[0].luma[0, 0]) == 7 and found[0].chroma is not None
        assert int(found[0].chroma[1, 7, 15]) == 140
        assert found[2].t == 12.0 and int(found[2].luma[89, 159]) == 9 and found[2].chroma is None
        assert reader.read_new() == {}, "each picture is handed over once"
        luma[:] = 0
        assert int(found[0].luma[0, 0]) == 7, "the reader got a copy"
    finally:
        reader.close()
        writer.close()
    with pytest.raises(ValueError, match="fewer than"):
        WorkPictureTable(path, 4, (160, 90), create=False)


def test_a_table_made_anew_leaves_a_reader_of_the_old_one_reading(tmp_path: Path) -> None:
    """A restarted recorder makes its table anew at the same path while the detector may still map the old one
    (until the station tells it): truncated in place, the old one's pages were gone and the detector died of
    SIGBUS at its next read. The new table replaces the file; the old reader reads the old one to the end."""
    path = tmp_path / "table.work"
    first = WorkPictureTable(path, 2, (160, 90), create=True)
    reader = WorkPictureTable(path, 2, (160, 90), create=False)
    write(first, 1, np.full((90, 160), 9, np.uint8), None, 5.0)
    first.close()
    again = WorkPictureTable(path, 2, (160, 90), create=True)
    try:
        found = reader.read_new()
        assert int(found[1].luma[0, 0]) == 9 and found[1].t == 5.0
        fresh = WorkPictureTable(path, 2, (160, 90), create=False)
        assert fresh.read_new() == {}, "the new table starts empty"
        fresh.close()
    finally:
        reader.close()
        again.close()
    assert [p.name for p in tmp_path.iterdir()] == ["table.work"], "no file left over"


def test_the_recorder_writes_the_banks_own_work_picture_into_its_slot(tmp_path: Path) -> None:
    """Decoded frames reduced by the recorder straight into shared memory are the pictures the detector bank
    makes of them itself (box-averaged luma, the chroma grid), at every frame."""
    video = encode_video(tmp_path / "camera.mp4", seconds=1, size="640x360")
    path = tmp_path / "table.work"
    writer = WorkPictureTable(path, 2, (160, 90), create=True)
    reader = WorkPictureTable(path, 2, (160, 90), create=False)
    feed = DetectFeed(writer, 1, (160, 90))
    try:
        with av.open(str(video)) as container:
            for number, frame in enumerate(container.decode(video=0)):
                y, chroma = detection_planes(frame)
                feed(y, chroma, 100.0 + number, frame)
                picture = reader.read_new()[1]
                expected = np.empty((2, *CHROMA_GRID), np.uint8)
                sample_chroma(chroma, expected)
                assert picture.t == 100.0 + number
                assert np.array_equal(picture.luma, reduce_luma(y, (160, 90)))
                assert picture.chroma is not None and np.array_equal(picture.chroma, expected)
        assert number == 14
    finally:
        reader.close()
        writer.close()


def test_a_stop_asked_by_a_signal_is_a_plain_value_seen_by_the_loop() -> None:
    """The recorder's SIGTERM handler set the Event its loop waits on; a signal arriving while the main thread held
    that Event's lock deadlocked the handler, and a recorder outlived the supervisor killed under it. The supervisor
    and the recorders now share one request that only stores the signal."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        asked = StopRequest((signal.SIGTERM,))
        assert not asked.stop
        signal.raise_signal(signal.SIGTERM)
        assert asked.stop and asked.signal == signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
