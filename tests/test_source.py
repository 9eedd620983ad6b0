"""Opening sources: RTSP's untimed first keyframe is kept; files replay like cameras (paced, looped)."""

from __future__ import annotations

import subprocess
import threading
import time
from itertools import islice, pairwise
from pathlib import Path

import av
import pytest

from ingest.source import SourceError, SourceOptions, open_source
from tests.support.media import encode_video
from tests.support.rtsp import RtspServer

STALL = 10.0


@pytest.fixture(scope="module")
def short_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return encode_video(tmp_path_factory.mktemp("media") / "two-seconds.mp4", seconds=2)


def test_rtsp_stream_starts_with_a_timed_keyframe() -> None:
    with RtspServer(["cam0"]) as server:
        source = open_source(server.url("cam0"), SourceOptions())
        try:
            first, second = islice(source.packets(threading.Event(), STALL), 2)
            assert source.live and first.is_keyframe
            assert first.dts is not None and second.dts is not None and first.dts < second.dts
        finally:
            source.close()


def test_file_loops_with_increasing_timestamps(short_file: Path) -> None:
    source = open_source(f"file://{short_file}", SourceOptions(realtime=False, loop=True))
    try:
        packets = list(islice(source.packets(threading.Event(), STALL), 90))  # three passes of 30 frames
    finally:
        source.close()
    dts = [p.dts for p in packets if p.dts is not None]
    assert len(dts) == len(packets)
    assert all(b > a for a, b in pairwise(dts))
    steps = {b - a for a, b in pairwise(dts)}
    assert len(steps) == 1, f"one frame apart everywhere, loop seams included: {steps}"
    assert [i for i, p in enumerate(packets) if p.is_keyframe] == [0, 15, 30, 45, 60, 75]


def test_file_replays_at_its_own_pace_and_stops_on_request(short_file: Path) -> None:
    stop = threading.Event()
    source = open_source(f"file://{short_file}", SourceOptions(realtime=True, loop=False))
    began = time.monotonic()
    try:
        count = sum(1 for _ in source.packets(stop, STALL))
    finally:
        source.close()
    assert count == 30 and time.monotonic() - began >= 1.8  # 30 frames at 15 fps cannot come faster
    endless = open_source(f"file://{short_file}", SourceOptions(realtime=True, loop=True))
    try:
        threading.Timer(0.3, stop.set).start()
        assert sum(1 for _ in endless.packets(stop, STALL)) < 30
    finally:
        endless.close()


def test_a_file_whose_timestamps_go_back_replays_at_its_pace_with_rising_timestamps(tmp_path: Path) -> None:
    """Two clips joined end to end as MPEG-TS files are (`cat a.ts b.ts`): the second's timestamps start again.
    Paced on them, the replay ran as fast as the file could be read, and recordings were stamped ahead."""
    clips = []
    for name in ("a", "b"):
        clip = tmp_path / f"{name}.ts"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(encode_video(tmp_path / f"{name}.mp4", seconds=1)),
                        "-c", "copy", "-f", "mpegts", str(clip)], check=True)
        clips.append(clip.read_bytes())
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(clips))
    source = open_source(f"file://{joined}", SourceOptions(realtime=True, loop=False))
    began = time.monotonic()
    try:
        packets = list(source.packets(threading.Event(), STALL))
    finally:
        source.close()
    dts = [p.dts for p in packets if p.dts is not None]
    assert len(dts) == len(packets) == 30 and all(b > a for a, b in pairwise(dts))
    assert len({b - a for a, b in pairwise(dts)}) == 1, "one frame apart at the seam too"
    assert time.monotonic() - began >= 1.8  # 30 frames at 15 fps


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_source(f"file://{tmp_path}/none.mp4", SourceOptions())


def test_a_camera_host_name_that_does_not_resolve_is_said_so() -> None:
    """FFmpeg says "Input/output error" for a name it cannot resolve (".invalid" never resolves, RFC 6761)."""
    with pytest.raises(SourceError, match=r"host name 'cam7\.invalid' does not resolve"):
        open_source("rtsp://admin:secret@cam7.invalid:554/stream1", SourceOptions(connect_timeout=3.0))


def test_a_camera_that_resolves_but_is_down_keeps_the_cause_ffmpeg_gives() -> None:
    with pytest.raises(av.FFmpegError) as raised:
        open_source("rtsp://127.0.0.1:9/stream1", SourceOptions(connect_timeout=3.0))
    assert "does not resolve" not in str(raised.value)
