"""Cameras with a microphone, on a real GStreamer RTSP server: AAC recorded as it comes, G.711 A-law recorded
as AAC, in segments and in clips, placed against the pictures; the status names the codec; a camera without
audio is recorded as before; audio that fails never stops the pictures."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import av
import pytest

from ingest.source import SourceOptions
from ingest.worker import Backoff, StreamWorker
from storage.audio_track import TranscodedAudio
from storage.index import Segment
from storage.recorder import SegmentRecorder
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

FPS = 15
SYNC_SECONDS = 0.3  # audio and pictures of one recording start and end this close together
HOLE_SECONDS = 0.02  # the sound of a recording runs on without a hole longer than this (segment joins included)
MICROPHONES = {"cam-aac": "aac", "cam-pcma": "pcma"}


@pytest.fixture(scope="module")
def microphones() -> Iterator[RtspServer]:
    """A camera with AAC (16 kHz), one with G.711 A-law (8 kHz) and one without a microphone."""
    with RtspServer(["cam-aac", "cam-pcma", "cam-mute"], audio=MICROPHONES) as server:
        yield server


@dataclass(frozen=True)
class Tracks:
    video: tuple[float, float]  # first and last picture's time, the last one's duration included
    audio: tuple[float, float] | None  # the same for the decoded sound
    audio_codec: str | None
    sample_rate: int | None
    largest_hole: float = 0.0  # seconds between an audio frame's end and the next one's start


def tracks(path: Path) -> Tracks:
    """What a recording holds, every audio frame decoded."""
    with av.open(str(path), "r") as container:
        video = container.streams.video[0]
        assert video.time_base is not None
        shown = [float(frame.pts * video.time_base) for frame in container.decode(video) if frame.pts is not None]
        if not container.streams.audio:
            return Tracks((shown[0], shown[-1] + 1 / FPS), None, None, None)
        container.seek(0)
        sound = container.streams.audio[0]
        heard = [(float(frame.pts * frame.time_base), frame.samples / frame.sample_rate)
                 for frame in container.decode(sound) if frame.pts is not None and frame.time_base is not None]
        holes = [start - (before + length) for (before, length), (start, _) in pairwise(heard)]
        return Tracks((shown[0], shown[-1] + 1 / FPS), (heard[0][0], heard[-1][0] + heard[-1][1]),
                      sound.codec_context.name, sound.codec_context.sample_rate, max(holes, default=0.0))


def assert_in_sync(found: Tracks, sample_rate: int) -> None:
    assert found.audio is not None, "the recording has sound"
    assert found.audio_codec == "aac" and found.sample_rate == sample_rate
    (video_start, video_end), (audio_start, audio_end) = found.video, found.audio
    assert abs(audio_start - video_start) <= SYNC_SECONDS, found
    assert abs(audio_end - video_end) <= SYNC_SECONDS, found
    assert found.largest_hole <= HOLE_SECONDS, found


def ffprobe_streams(path: Path) -> list[dict[str, str]]:
    result = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,sample_rate",
                             "-of", "json", str(path)], capture_output=True, text=True, timeout=60, check=True)
    streams: list[dict[str, str]] = json.loads(result.stdout)["streams"]
    return streams


def ffmpeg_decode_errors(path: Path) -> str:
    """What FFmpeg says when it decodes the file's sound."""
    result = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "null", "-"],
                            capture_output=True, text=True, timeout=60, check=False)
    return result.stderr if result.returncode == 0 else f"status {result.returncode}: {result.stderr}"


def test_sound_is_recorded_in_segments_and_clips(microphones: RtspServer, tmp_path: Path, make_station) -> None:
    names = ["cam-aac", "cam-pcma", "cam-mute"]
    config = station_config(tmp_path, [{"name": name, "record_url": microphones.url(name)} for name in names])
    station, client = make_station(config)
    for name in names:
        wait_for(lambda n=name: len(station.index.segments(n, 0, 2**62)) >= 3, 60, f"3 segments of {name}")

    listed = {camera["name"]: camera for camera in client.get("/api/cameras").json()}
    assert {name: listed[name]["audio_codec"] for name in names} == \
        {"cam-aac": "aac", "cam-pcma": "pcm_alaw", "cam-mute": None}

    rates = {"cam-aac": 16000, "cam-pcma": 8000}  # AAC as it comes; G.711 as AAC at its own 8 kHz
    for name, rate in rates.items():
        segments = sorted(station.index.segments(name, 0, 2**62), key=lambda s: s.start_ms)
        for segment in segments[1:]:  # the first began with the connection, its sound a moment later
            assert_in_sync(tracks(config.segments_dir / segment.path), rate)
        clip = fetch_clip(client, name, segments[0], segments[2], tmp_path)
        assert_in_sync(tracks(clip), rate)
        kinds = {s["codec_type"]: s for s in ffprobe_streams(clip)}
        assert kinds["audio"]["codec_name"] == "aac" and kinds["audio"]["sample_rate"] == str(rate)
        assert ffmpeg_decode_errors(clip) == ""

    mute = station.index.segments("cam-mute", 0, 2**62)
    assert all(tracks(config.segments_dir / s.path).audio is None for s in mute)
    assert [s["codec_type"] for s in ffprobe_streams(fetch_clip(client, "cam-mute", mute[0], mute[1], tmp_path))] \
        == ["video"]


def fetch_clip(client, name: str, first: Segment, last: Segment, folder: Path) -> Path:
    """The clip from half a second into `first` to half a second into `last`, through the API."""
    response = client.get(f"/api/cameras/{name}/clip.mp4",
                          params={"start": (first.start_ms + 500) / 1000, "end": (last.start_ms + 500) / 1000})
    assert response.status_code == 200, response.text
    path = folder / f"{name}.mp4"
    path.write_bytes(response.content)
    return path


def test_failing_sound_never_stops_the_pictures(microphones: RtspServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """The G.711 decoder fails on the 20th packet: the sound is dropped (logged once), segments go on without it."""
    real_convert = TranscodedAudio.convert
    converted = {"packets": 0}

    def convert_until_broken(self: TranscodedAudio, packet: av.Packet) -> list[av.Packet]:
        converted["packets"] += 1
        if converted["packets"] >= 20:
            raise av.InvalidDataError(1094995529, "Invalid data found when processing input")
        return real_convert(self, packet)

    monkeypatch.setattr(TranscodedAudio, "convert", convert_until_broken)
    finished: list[Segment] = []
    recorder = SegmentRecorder("cam-pcma", tmp_path, 1, finished.append)
    worker = StreamWorker("cam-pcma", "record", microphones.url("cam-pcma"), SourceOptions(), stall_seconds=10,
                          backoff=Backoff(0.2, 1), sinks=[recorder], audio_sinks=[recorder])
    with caplog.at_level(logging.ERROR):
        worker.start()
        try:
            wait_for(lambda: len(finished) >= 6, 60, "six segments")
        finally:
            worker.stop()
            worker.join(30)
    assert converted["packets"] == 20, "no audio is offered after the failure"
    heard = [tracks(tmp_path / segment.path).audio is not None for segment in finished]
    assert heard[0] and not any(heard[-3:]), heard
    assert sum("until the next connection" in record.message for record in caplog.records) == 1
    assert all(segment.end_ms - segment.start_ms >= 900 for segment in finished[:-1]), "the pictures went on"


def test_a_gap_in_the_cameras_sound_stays_a_gap(tmp_path: Path) -> None:
    """A lost G.711 packet: the AAC after it keeps the camera's timing instead of closing the gap up."""
    source = tmp_path / "alaw.nut"
    with av.open(str(source), "w") as output:
        stream = output.add_stream("pcm_alaw", rate=8000, layout="mono")
        for start in [*range(0, 8000, 320), *range(12000, 20000, 320)]:  # half a second missing at 1.0 s
            frame = av.AudioFrame(format="s16", layout="mono", samples=320)
            frame.sample_rate, frame.pts = 8000, start
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    with av.open(str(source)) as container:
        audio = container.streams.audio[0]
        transcoder = TranscodedAudio(audio)
        recorded = [p for packet in container.demux(audio) if packet.size for p in transcoder.convert(packet)]
        recorded += transcoder.flush()
    times = [float(p.pts * p.time_base) for p in recorded if p.pts is not None and p.time_base is not None]
    after = [round((t - 1.5) * 8000) for t in times if t >= 1.5]  # samples since the sound came back
    assert after[0] == 0 and {samples % 1024 for samples in after} == {0}, "AAC frames from 1.5 s on, not 1.0 s"
    assert times[-1] >= 2.3, "what follows the gap keeps its time (2.5 s of camera time)"

