"""The recorder when the disk fails under it (what was written stays indexed, recording resumes) or the catalog
is slow (what it has not indexed yet is shown)."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from ingest.clock import ReceiveClock
from ingest.source import SourceOptions, open_source
from storage.custody import sha256_file
from storage.index import RecordingIndex, Segment
from storage.probe import probe_segment
from storage.reconcile import ReconcileReport, reconcile
from storage.recorder import UNINDEXED_SHOWN, SegmentRecorder
from storage.segment_file import SegmentFile
from tests.support.media import encode_video


@pytest.fixture(scope="module")
def ten_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_video(tmp_path_factory.mktemp("media") / "ten-seconds.mp4", seconds=10)


def feed(recorder: SegmentRecorder, path: Path, before_packet: Callable[[int], None],
         shift: Callable[[int], float] = lambda _number: 0.0) -> None:
    """The file's packets to the recorder, stamped as a receive clock does, moved by `shift` (seconds) each."""
    source = open_source(f"file://{path}", SourceOptions(realtime=False, loop=False))
    clock = ReceiveClock(live=False)
    recorder.start(source.stream)
    try:
        for number, packet in enumerate(source.packets(threading.Event(), 10)):
            before_packet(number)
            assert packet.dts is not None
            seconds = float(packet.dts * source.time_base)
            stamp = clock.stamp(seconds, keyframe=packet.is_keyframe)
            recorder.packet(packet, replace(stamp, wall=stamp.wall + shift(number)))
    finally:
        recorder.stop("end")
        source.close()


def test_disk_full_keeps_what_was_written_and_recording_resumes(ten_seconds: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = SegmentFile.write
    disk = {"full": False}

    def write_unless_disk_full(self: SegmentFile, packet) -> None:
        if disk["full"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, packet)

    def disk_full_for_packets_40_to_59(number: int) -> None:
        disk["full"] = 40 <= number < 60

    monkeypatch.setattr(SegmentFile, "write", write_unless_disk_full)
    finished: list[Segment] = []
    recorder = SegmentRecorder("cam", tmp_path, 4, finished.append)
    feed(recorder, ten_seconds, disk_full_for_packets_40_to_59)

    assert recorder.last_error is None, "the error clears once a segment is written again"
    assert len(finished) >= 3
    first, *rest = finished
    assert first.end_ms - first.start_ms >= 2000, "the part written before the disk filled is kept"
    assert probe_segment(tmp_path / first.path).packets >= 30
    assert rest[0].start_ms - first.end_ms >= 1000, "the lost stretch is a gap, not papered over"
    for segment in rest:
        assert probe_segment(tmp_path / segment.path).packets > 0


def test_segments_closing_or_not_yet_in_the_catalog_are_shown_with_no_hole_at_the_live_edge(
        ten_seconds: Path, tmp_path: Path) -> None:
    """Between two segments the old one is closed (fsynced) before the new one opens, and the catalog writer
    takes it a moment later: all that time it is shown, so `recordings` shows no gap at the live edge."""
    catalog: set[str] = set()
    shown_while_published: list[bool] = []

    def published(segment: Segment) -> None:  # called while the recorder is between two segments
        shown = recorder.unindexed()
        shown_while_published.append(recorder.in_progress() is None and [s.path for s in shown[-1:]] == [segment.path])

    def no_hole(_number: int) -> None:
        live = recorder.in_progress()
        shown = [*recorder.unindexed(), *([live] if live else [])]
        for before, after in pairwise(shown):
            assert after.start_ms - before.end_ms <= 100, (before, after)

    recorder = SegmentRecorder("cam", tmp_path, 2, published, indexed=catalog.__contains__)
    feed(recorder, ten_seconds, no_hole)
    assert len(shown_while_published) == 5 and all(shown_while_published)
    newest = recorder.unindexed()
    assert len(newest) == UNINDEXED_SHOWN, "the newest ones while the catalog lags"
    catalog.update(segment.path for segment in newest[:-1])
    assert recorder.unindexed() == newest[-1:], "a segment the catalog has is no longer shown by the recorder"


def test_recording_stops_at_a_keyframe_while_the_disk_keeps_only_the_catalogs_room_and_resumes(
        ten_seconds: Path, tmp_path: Path) -> None:
    """A disk filled with locked footage (or another program's files): the cameras wrote to the last byte, and the
    catalog had none left (no login to close the case that would free it). Below the floor a segment ends at the
    next keyframe, none opens, the camera says disk full; with room again the next keyframe opens one."""
    room = {"left": True}
    errors: list[str | None] = []
    finished: list[Segment] = []
    recorder = SegmentRecorder("cam", tmp_path, 60, finished.append, room=lambda: room["left"])

    def room_gone_for_packets_40_to_89(number: int) -> None:
        room["left"] = not 40 <= number < 90
        errors.append(recorder.last_error)

    feed(recorder, ten_seconds, room_gone_for_packets_40_to_89)
    assert "cannot write recordings: disk full" in (errors[60] or ""), "said while it lasts"
    assert recorder.last_error is None, "cleared once written again"
    assert len(finished) == 2, "one segment before, one after: none while there was no room"
    before, after = finished
    assert probe_segment(tmp_path / before.path).packets == 45, "ended at the first keyframe without room (45)"
    assert after.start_ms - before.end_ms >= 2000, "the stretch not recorded is a gap"
    assert probe_segment(tmp_path / after.path).packets == 60, "opened at the first keyframe with room (90)"


def test_the_disk_room_is_the_free_space_above_the_floor(tmp_path: Path) -> None:
    from storage.disk_room import DiskRoom
    from storage.disk_space import free_bytes

    free = free_bytes(tmp_path)
    assert DiskRoom(tmp_path, free // 2)() and not DiskRoom(tmp_path, 2 * free)()
    assert DiskRoom(tmp_path, 0)(), "no floor: to the last byte"
    assert DiskRoom(tmp_path / "not-yet", 2 * free)(), "no folder yet: the write says why"


def test_a_packet_cut_short_by_the_end_of_the_file_is_not_counted(ten_seconds: Path, tmp_path: Path) -> None:
    """A segment the disk filled under (or a crash cut) ends inside a packet: that packet was counted, so a file whose
    only keyframe was cut was indexed as footage that does not decode (a field audit: 6 of 120 salvaged segments)."""
    finished: list[Segment] = []
    recorder = SegmentRecorder("cam", tmp_path, 60, finished.append)
    feed(recorder, ten_seconds, lambda _number: None)
    (whole,) = finished
    path = tmp_path / whole.path
    data = path.read_bytes()
    assert probe_segment(path).packets == 150
    last_box = data.rindex(b"mdat") - 4  # the last fragment's pictures (the file's random-access index follows)
    last_end = last_box + int.from_bytes(data[last_box:last_box + 4], "big")
    path.write_bytes(data[:last_end - 20])  # into the last picture
    assert probe_segment(path).packets == 149, "the cut picture is not there"
    path.write_bytes(data[:data.index(b"mdat") + 4 + 40])  # into the first: nothing to play
    assert probe_segment(path).packets == 0


def test_recordings_follow_the_station_clock_set_back(ten_seconds: Path, tmp_path: Path) -> None:
    """A station clock that ran an hour ahead, set right while a camera records: its segments were kept after the
    previous one's end, so the camera's footage stayed an hour ahead for as long as it stayed connected, and the clips
    of what detection saw meanwhile (stamped on the right clock) found none. A second back is the reconnect's own
    overlap, which is still kept out."""
    finished: list[Segment] = []
    feed(SegmentRecorder("cam", tmp_path, 2, finished.append), ten_seconds, lambda _number: None,
         lambda number: -3600.0 if number >= 75 else 0.0)  # set back at 5 s
    starts = [segment.start_ms for segment in finished]
    assert starts[0] + 2_000 <= starts[1] <= starts[0] + 2_100, starts  # before the setting
    # the segment holding the setting is stamped as a whole on the clock set right, as those after it
    assert starts[0] - 3_600_000 + 4_000 <= starts[2] <= starts[0] - 3_600_000 + 4_100, starts
    assert starts[-1] == starts[2] + 4_000, starts
    finished.clear()
    feed(SegmentRecorder("cam", tmp_path / "resync", 2, finished.append), ten_seconds, lambda _number: None,
         lambda number: -1.0 if number >= 75 else 0.0)
    assert all(b.start_ms >= a.end_ms - 100 for a, b in pairwise(finished)), "no overlap of a second"


def test_a_clock_set_back_never_writes_over_a_recording_nor_lets_the_check_take_the_open_one(
        ten_seconds: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Stamped again after the clock was set back, a new segment could take an earlier one's name and write over it;
    and the recorder's check of its camera's older files, which tells them by a stamp before the camera's start,
    took the segment being written for a file left behind (deleted or indexed half written: a review). Neither now."""
    finished: list[Segment] = []
    index = RecordingIndex(f"sqlite:///{tmp_path / 'nvr.db'}", "post")
    segments_dir = tmp_path / "segments"
    recorder = SegmentRecorder("cam", segments_dir, 2, finished.append)
    checked: dict[str, object] = {}

    def check_while_recording(number: int) -> None:  # what the recorder process's check does, mid-segment
        if number == 100 and finished:
            assert recorder.opened is not None
            checked["report"] = reconcile(index, segments_dir, cameras={"cam"}, recording=recorder.opened.__contains__)

    with caplog.at_level("ERROR", logger="storage.recorder"):
        feed(recorder, ten_seconds, check_while_recording, lambda number: -4.0 if number >= 75 else 0.0)
    report = checked["report"]
    assert isinstance(report, ReconcileReport) and report.indexed == [] and report.removed_files == []
    paths = [segment.path for segment in finished]
    assert len(paths) == len(set(paths)), paths
    assert not caplog.records, caplog.text  # no segment refused for want of a name
    for segment in finished:
        assert sha256_file(segments_dir / segment.path) == segment.sha256, "every file as it was recorded"
    index.close()
