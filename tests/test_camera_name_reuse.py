"""A removed camera's name taken again: the new camera starts without the old one's footage, which is set aside
under a name of its own; what a review of that change found (storage/camera_store.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nvr.cameras import seed_from_config
from nvr.district.post_export import _same_camera
from storage.accounts import AccountStore
from storage.camera_store import HELD_FRAMES_MS, NAME_FREE_AFTER_MS, CameraStore, NameNotFreeYet, set_aside_from
from storage.index import RecordingIndex, Segment
from storage.layout import segment_relpath
from storage.reconcile import reconcile
from tests.conftest import station_config
from tests.support.media import encode_video

T = 1_795_000_000_000


@pytest.fixture
def index(database_url: str) -> Iterator[RecordingIndex]:
    created = RecordingIndex(database_url, "post")
    yield created
    created.close()


def test_a_recorder_starting_the_new_camera_leaves_the_old_one_s_files_alone(index: RecordingIndex,
                                                                             tmp_path: Path) -> None:
    """The recorder's check of its cameras' folders took the old camera's files (indexed, under the set-aside name)
    for files to index: their rows' paths were taken, so it failed, and tried again every second (found in
    review). A file another camera left unindexed is still indexed."""
    store = CameraStore(index)
    store.put("cam", {"record_url": "rtsp://old"}, "catalog", T)
    store.put("zzz", {"record_url": "rtsp://z"}, "catalog", T)
    old, left = segment_relpath("cam", T + 1000), segment_relpath("zzz", T + 5000)
    for relpath in (old, left):
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        encode_video(tmp_path / relpath, seconds=1)
    index.add_segment(Segment("cam", old, T + 1000, T + 2000, (tmp_path / old).stat().st_size))
    store.remove("cam", T + 10_000)
    store.put("cam", {"record_url": "rtsp://new"}, "catalog", T + 20_000)
    report = reconcile(index, tmp_path, cameras={"cam", "zzz"})
    assert report.indexed == [left]
    assert [s.camera for s in index.all_segments()] == [f"cam~{index.camera_id('cam')}.{T + 10_000}", "zzz"]


def test_long_names_set_aside_together_do_not_meet(index: RecordingIndex, tmp_path: Path) -> None:
    """Two cameras whose long names share their start, taken out of config.yaml at one start and put back at a
    later one: their set-aside names met, and every start after failed (found in review)."""
    start = "phuong-ben-thanh-cho-ben-thanh-cong-tay-lau-mot-"
    cameras = [{"name": start + side, "record_url": "rtsp://127.0.0.1/x"} for side in ("trai", "phai")]
    kept = {"name": "other", "record_url": "rtsp://127.0.0.1/y"}
    store = CameraStore(index)
    seed_from_config(station_config(tmp_path, [*cameras, kept]), store, T)
    seed_from_config(station_config(tmp_path, [kept]), store, T + 100_000)
    seed_from_config(station_config(tmp_path, [*cameras, kept]), store, T + 200_000)
    seed_from_config(station_config(tmp_path, [kept]), store, T + 300_000)
    seed_from_config(station_config(tmp_path, [*cameras, kept]), store, T + 400_000)
    names = [camera.name for camera in store.all(removed=True)]
    assert len(names) == len(set(names)) == 7 and all(len(name) <= 63 for name in names)
    assert sum(set_aside_from(name, cameras[0]["name"]) for name in names) == 4  # both sides, twice


def test_a_grant_given_while_the_name_was_free_goes_with_the_new_camera(index: RecordingIndex) -> None:
    """A grant is given for whoever takes the name next: it stays with the name, not with the old camera's
    footage (found in review: it went with the footage, which the district then showed that household)."""
    store, accounts = CameraStore(index), AccountStore(index)
    store.put("cong", {"record_url": "rtsp://old"}, "catalog", T)
    store.remove("cong", T + 1000)
    accounts.add("ho-b", "household-pass", "viewer")
    accounts.grant("ho-b", ["cong"])
    store.put("cong", {"record_url": "rtsp://new"}, "catalog", T + 1000 + NAME_FREE_AFTER_MS)
    accounts.forget_cached()
    assert accounts.get_required("ho-b").cameras == frozenset({"cong"})


def test_a_district_item_knows_its_camera_under_the_name_it_was_set_aside_under() -> None:
    """A district case made before a post's camera name was taken again: the post's items now name the set-aside
    camera, and the district's export took that for a change at the post (found in review)."""
    assert _same_camera("cong", "cong") and _same_camera("cong~7.1795000010000", "cong")
    long = "phuong-ben-thanh-cho-ben-thanh-cong-tay-lau-mot-trai"
    assert _same_camera(f"{long[:32]}~3.1795000010000", long)
    assert not _same_camera("cong-2~7.1795000010000", "cong") and not _same_camera("cong~7.1", "cong-2")
    assert not _same_camera("cong", None)


def test_what_the_old_camera_recorded_and_reaches_the_catalog_late_goes_by_its_time(index: RecordingIndex) -> None:
    """A recorder's journal (or an event that waited for the catalog) can bring the old camera's rows after the
    name was taken again: they went by the name, to the new camera, for its household to see. They go by their
    time: begun before the old camera's removal, to the set-aside camera."""
    from storage.events import EventStore

    store = CameraStore(index)
    store.put("cam", {"record_url": "rtsp://old"}, "catalog", T)
    index.add_segment(Segment("cam", "cam/day/1.mp4", T + 1000, T + 2000, 10))
    store.remove("cam", T + 10_000)
    store.put("cam", {"record_url": "rtsp://new"}, "catalog", T + 20_000)
    aside = f"cam~{index.camera_id('cam')}.{T + 10_000}"
    index.add_new_segments([Segment("cam", "cam/day/2.mp4", T + 8000, T + 9000, 10),  # the old one's, late
                            # the new camera's first, its first pictures stamped before it was added (a camera
                            # sending the frames it held at connect): after the old one's removal, so its own
                            Segment("cam", "cam/day/3.mp4", T + 18_000, T + 22_000, 10)])
    index.open_outage("cam", T + 9500, "camera removed")
    event = EventStore(index).open("cam", "motion", T + 8500, 0.9, [])
    assert [(s.camera, s.path) for s in index.all_segments()] == [
        (aside, "cam/day/1.mp4"), (aside, "cam/day/2.mp4"), ("cam", "cam/day/3.mp4")]
    assert event.camera == "cam" and EventStore(index).get(event.id).camera == aside  # type: ignore[union-attr]
    assert index.outages(aside, 0, 2**62) and not index.outages("cam", 0, 2**62)


def test_a_name_taken_again_twice_sends_each_late_row_to_its_own_camera(index: RecordingIndex) -> None:
    """Found in review: the second taking overwrote the first's boundary, and the first camera's late rows went to
    the second one's set-aside footage. Late outage ends and motion went by the name too."""
    from detect.motion_grid import MotionSecond
    from storage.motion_grids import MotionGridStore

    store = CameraStore(index)
    store.put("door", {"record_url": "rtsp://a"}, "catalog", T)
    index.open_outage("door", T + 4000, "camera offline")
    store.remove("door", T + 10_000)
    store.put("door", {"record_url": "rtsp://b"}, "catalog", T + 20_000)
    first = f"door~{index.camera_id('door')}.{T + 10_000}"
    store.remove("door", T + 30_000)
    store.put("door", {"record_url": "rtsp://c"}, "catalog", T + 40_000)
    second = f"door~{index.camera_id('door')}.{T + 30_000}"
    index.add_new_segments([Segment("door", "door/day/a.mp4", T + 5000, T + 6000, 10),
                            Segment("door", "door/day/b.mp4", T + 25_000, T + 26_000, 10),
                            Segment("door", "door/day/c.mp4", T + 45_000, T + 46_000, 10)])
    assert [(s.camera, s.path[-5:]) for s in index.all_segments()] == [
        (first, "a.mp4"), (second, "b.mp4"), ("door", "c.mp4")]
    index.close_outages(T + 6000, "door")  # the first camera's outage end, arriving late
    assert [o.end_ms for o in index.outages(first, 0, 2**62)] == [T + 6000]
    grids = MotionGridStore(index)
    grids.add([MotionSecond("door", (T + 5000) // 1000, bytes([1] * 18)),
               MotionSecond("door", (T + 45_000) // 1000, bytes([1] * 18))])
    assert grids.grids(first, 0, 2**62).seconds.tolist() == [(T + 5000) // 1000]
    assert grids.grids("door", 0, 2**62).seconds.tolist() == [(T + 45_000) // 1000]


def test_the_journals_written_at_start_leave_nothing_running(tmp_path: Path) -> None:
    """Found in review: when the start's time for the journals ran out, their writer's thread went on in the
    background and shared the journal file with the recorder that started next. They are written in the caller's
    thread now, and what is left when the time runs out stays in the journal for its recorder."""
    import threading

    from storage.catalog_journal import CatalogJournal, journal_path
    from storage.catalog_writer import replay_journals

    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    try:
        journal = CatalogJournal(journal_path(tmp_path, 0), "post")
        journal.append([Segment("cam", f"cam/day/{k}.mp4", T + k * 1000, T + k * 1000 + 1000, 10) for k in range(3)])
        journal.close()
        threads = threading.active_count()
        replay_journals(index, tmp_path, timeout=0)  # no time: nothing written, nothing left running
        assert threading.active_count() == threads and not list(index.all_segments())
        assert CatalogJournal(journal_path(tmp_path, 0), "post").pending == 3
        replay_journals(index, tmp_path)
        assert len(list(index.all_segments())) == 3 and not CatalogJournal(journal_path(tmp_path, 0), "post").pending
    finally:
        index.close()


def test_a_name_is_taken_again_only_once_rows_can_be_told_apart_by_their_time(index: RecordingIndex) -> None:
    """Rows reaching the catalog after a name was taken again go by their time: begun within REMOVAL_NOTICED_MS of
    the old camera's removal, to the old camera. A camera added a second after the removal had its first pictures
    (and a camera sending the frames it held at connect, seconds of them) given to the old camera: the name is
    refused, saying how long to wait, until the new camera's first pictures cannot fall in that time."""
    store = CameraStore(index)
    store.put("ngo", {"record_url": "rtsp://old"}, "catalog", T)
    store.remove("ngo", T + 10_000)
    with pytest.raises(NameNotFreeYet) as refused:
        store.put("ngo", {"record_url": "rtsp://new"}, "catalog", T + 11_000)
    assert refused.value.wait_seconds == 9 and "in 9 s" in str(refused.value), str(refused.value)
    with pytest.raises(NameNotFreeYet):
        store.put("ngo", {"record_url": "rtsp://new"}, "catalog", T + 10_000 + NAME_FREE_AFTER_MS - 1)
    assert [c.name for c in store.all()] == [], "nothing changed by the refusal"
    taken = T + 10_000 + NAME_FREE_AFTER_MS
    store.put("ngo", {"record_url": "rtsp://new"}, "catalog", taken)
    index.add_new_segments([Segment("ngo", "ngo/day/first.mp4", taken - HELD_FRAMES_MS, taken + 2000, 10)])
    assert [s.camera for s in index.all_segments()] == ["ngo"], "the new camera's earliest held frames are its own"


def test_a_start_putting_back_a_camera_taken_out_at_the_start_before_waits_for_its_name(
        index: RecordingIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config.yaml's camera taken out, the station started, the camera put back and the station started again
    within seconds: the start waits for the name to be free (logged) instead of failing, and records the camera."""
    import nvr.cameras

    slept: list[float] = []
    monkeypatch.setattr(nvr.cameras.time, "sleep", slept.append)
    camera, other = ({"name": n, "record_url": "rtsp://127.0.0.1/x"} for n in ("ngo", "hem"))
    store = CameraStore(index)
    seed_from_config(station_config(tmp_path, [camera, other]), store, T)
    seed_from_config(station_config(tmp_path, [other]), store, T + 100_000)
    seed_from_config(station_config(tmp_path, [camera, other]), store, T + 102_000)
    assert slept == [8]
    assert sorted(c.name for c in store.all()) == ["hem", "ngo"]
