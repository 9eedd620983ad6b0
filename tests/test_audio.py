"""Cameras with a microphone, on a real GStreamer RTSP server: AAC recorded as it comes, G.711 A-law recorded
as AAC, in segments and in clips, placed against the pictures; the status names the codec; a camera without
audio is recorded as before; audio that fails never stops the pictures."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.clock import Stamp
from ingest.source import SourceOptions, open_source
from ingest.worker import Backoff, StreamWorker
from nvr.runtime.live_tap import LiveTap
from nvr.runtime.messages import LiveData
from storage.audio_track import TranscodedAudio
from storage.index import Segment
from storage.recorder import SegmentRecorder
from tests.conftest import OPERATOR, OPERATOR_PASSWORD, station_config, wait_for
from tests.support.live import SentMessages
from tests.support.rtsp import RtspServer
from tests.support.web import chromium, log_in, serving
from tests.support.workers import running

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

    # a case's export keeps the sound too: its clips are cut the same way, then signed
    segments = sorted(station.index.segments("cam-pcma", 0, 2**62), key=lambda s: s.start_ms)
    item = {"camera": "cam-pcma", "start": (segments[0].start_ms + 500) / 1000,
            "end": (segments[2].start_ms + 500) / 1000}
    case = client.post("/api/cases", json={"title": "Mất xe máy", "note": "", "items": [item]})
    assert case.status_code == 201, case.text
    url = f"/api/cases/{case.json()['id']}/export.zip"
    export = wait_for(lambda: (r := client.get(url)).status_code == 200 and r, 60, "the export built")
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        clip_name = next(n for n in archive.namelist() if n.endswith(".mp4"))
        (tmp_path / "exported.mp4").write_bytes(archive.read(clip_name))
    assert_in_sync(tracks(tmp_path / "exported.mp4"), 8000)

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
    with caplog.at_level(logging.ERROR), running(worker):
        wait_for(lambda: len(finished) >= 6, 60, "six segments")
    assert converted["packets"] == 20, "no audio is offered after the failure"
    heard = [tracks(tmp_path / segment.path).audio is not None for segment in finished]
    assert heard[0] and not any(heard[-3:]), heard
    assert sum("until the next connection" in record.message for record in caplog.records) == 1
    assert all(segment.end_ms - segment.start_ms >= 900 for segment in finished[:-1]), "the pictures went on"


def test_the_segment_being_written_is_shown_once_it_can_be_read(microphones: RtspServer, tmp_path: Path) -> None:
    """A segment with sound has no header until its first fragment (delay_moov): until then a clip or a
    timeline that took it would fail to open it."""
    recorder = SegmentRecorder("cam-aac", tmp_path, 2, lambda _segment: None)
    worker = StreamWorker("cam-aac", "record", microphones.url("cam-aac"), SourceOptions(), stall_seconds=10,
                          backoff=Backoff(0.2, 1), sinks=[recorder], audio_sinks=[recorder])
    opened: set[str] = set()

    def three_segments_opened() -> bool:
        if (shown := recorder.in_progress()) is not None and shown.path not in opened:
            with av.open(str(tmp_path / shown.path)) as container:  # raises if it cannot be read
                assert container.streams.audio, "with its sound"
            opened.add(shown.path)
        return len(opened) >= 3

    with running(worker):
        wait_for(three_segments_opened, 60, "three segments shown while written", interval=0.01)


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


async def listen(client: TestClient, camera: str, ask: bool, frames_wanted: int) -> tuple[dict, list[av.AudioFrame]]:
    """A viewer that offers to receive sound; the answer, and the sound frames it decoded once it had a picture."""
    peer = RTCPeerConnection()
    peer.addTransceiver("video", direction="recvonly")
    peer.addTransceiver("audio", direction="recvonly")
    loop = asyncio.get_running_loop()
    arrived: dict[str, asyncio.Future] = {"video": loop.create_future(), "audio": loop.create_future()}

    @peer.on("track")
    def _arrived(track: MediaStreamTrack) -> None:
        if not arrived[track.kind].done():
            arrived[track.kind].set_result(track)

    await peer.setLocalDescription(await peer.createOffer())
    response = await asyncio.to_thread(client.post, f"/api/cameras/{camera}/live", json={
        "sdp": peer.localDescription.sdp, "type": "offer", "quality": "main", "audio": ask})
    assert response.status_code == 200, response.text
    answer = response.json()
    await peer.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
    frames: list[av.AudioFrame] = []
    try:
        await asyncio.wait_for((await asyncio.wait_for(arrived["video"], 10)).recv(), 10)
        if answer.get("audio"):
            track = await asyncio.wait_for(arrived["audio"], 10)
            while len(frames) < frames_wanted:
                frames.append(await asyncio.wait_for(track.recv(), 10))
    finally:
        await peer.close()
    return answer, frames


def assert_hears_the_tone(frames: list[av.AudioFrame], sample_rate: int) -> None:
    assert {frame.sample_rate for frame in frames} == {sample_rate}
    pts = [frame.pts for frame in frames if frame.pts is not None]
    assert len(pts) == len(frames) and all(b > a for a, b in pairwise(pts)), "the sound comes in order"
    loudest = max(int(np.abs(frame.to_ndarray()).max()) for frame in frames[-10:])
    assert loudest > 5000, "the camera's tone (a sine at 0.3, 9830), not silence"


def test_live_view_carries_the_cameras_sound_when_asked(microphones: RtspServer, tmp_path: Path,
                                                        make_station) -> None:
    """G.711 passed through as PCMA; AAC as Opus; a camera without a microphone says so."""
    names = ["cam-aac", "cam-pcma", "cam-mute"]
    config = station_config(tmp_path, [{"name": name, "record_url": microphones.url(name)} for name in names])
    station, operator = make_station(config)
    for name in names:
        wait_for(lambda n=name: (report := station.report(n)) and report.record.state == "online", 30,
                 f"{name} online")
    with TestClient(create_app(station)) as client:
        client.headers.update(operator.headers)
        answer, frames = asyncio.run(listen(client, "cam-pcma", True, 100))  # 100 frames of 20 ms: 2 s
        assert answer["audio"] == "audio/PCMA" and "audio_unavailable" not in answer
        assert_hears_the_tone(frames, 8000)
        answer, frames = asyncio.run(listen(client, "cam-aac", True, 100))
        assert answer["audio"] == "audio/opus"
        assert_hears_the_tone(frames, 48000)  # what aiortc decodes Opus to

        answer, frames = asyncio.run(listen(client, "cam-mute", True, 1))
        assert "audio" not in answer and answer["audio_unavailable"] == "the camera sends no audio"
        answer, frames = asyncio.run(listen(client, "cam-pcma", False, 1))
        assert answer.keys() == {"sdp", "type", "quality", "transcoded"}, "no sound unless asked"
        hub = station.hub("cam-pcma", "record")
        wait_for(lambda: hub.viewer_count == 0 and hub.listener_count == 0, 15, "viewers and listeners gone")
    details = [e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="cam-pcma")
               if e.action == "live_start"]
    assert details == ["main", "main with sound"], "newest first"


LOUDEST_HEARD = """async () => {
  const stream = document.querySelector('video.live').srcObject;
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    analyser.getFloatTimeDomainData(samples);
    loudest = Math.max(loudest, ...samples.map(Math.abs));
  }
  await context.close();
  return loudest;
}"""
THIS_CAMERA_LIVE = """(name) => document.querySelector('.camera .name')?.textContent === name
  && document.querySelector('.camera video.live')?.videoWidth > 0"""
PLAYBACK_HEARD = """() => {
  const video = document.querySelector('.ptile video');
  return !video.muted && !video.paused && video.webkitAudioDecodedByteCount > 0 && !video.error;
}"""


def test_chromium_hears_the_camera_live_and_in_playback(microphones: RtspServer, tmp_path: Path,
                                                         make_station) -> None:
    """The camera page's sound button brings each camera's tone into Debian's Chromium; recorded clips
    (AAC at 8 kHz from G.711, AAC at 16 kHz as the camera sent it) play in the page's player with their sound."""
    names = ["cam-aac", "cam-pcma"]
    config = station_config(tmp_path, [{"name": name, "record_url": microphones.url(name)} for name in names])
    station, _client = make_station(config)
    for name in names:
        wait_for(lambda n=name: len(station.index.segments(n, 0, 2**62)) >= 2, 60, f"footage of {name}")
    with serving(station) as base, chromium() as browser:
        page = browser.new_page()
        log_in(page, base, OPERATOR, OPERATOR_PASSWORD)
        page.wait_for_selector(".tile video")
        for name in names:
            page.goto(f"{base}/#/camera/{name}")
            # this camera's page, not the one before it still showing while the new one loads
            page.wait_for_function(THIS_CAMERA_LIVE, arg=name, timeout=20_000)
            page.click(".live-figure .sound")
            page.wait_for_function("""() => document.querySelector('video.live').srcObject?.getAudioTracks().length
                                      && document.querySelector('video.live').videoWidth > 0""", timeout=20_000)
            assert page.inner_text(".live-figure .sound") == "Tắt tiếng"
            assert page.evaluate(LOUDEST_HEARD) > 0.1, f"{name}'s tone (a sine at 0.3) is heard"
            # the recorded footage below it, played with its sound turned on
            page.click(".ptile .sound")
            page.click(".controls .play")
            page.wait_for_function(PLAYBACK_HEARD, timeout=20_000)


def test_the_recorder_sends_sound_only_while_someone_listens(microphones: RtspServer) -> None:
    """A grid of tiles watches every camera and wants no sound: the camera's audio crosses to the station
    process only while a listener wants it, and asking for the sound does not send the pictures again."""
    outlet = SentMessages()
    tap = LiveTap("cam-pcma", "record", outlet)  # type: ignore[arg-type]
    source = open_source(microphones.url("cam-pcma"), SourceOptions())
    sent: dict[str, list[str]] = {"unwatched": [], "watched": [], "listened": []}
    try:
        assert source.audio is not None
        tap.start(source.stream)
        tap.start_audio(source.audio)
        for number, packet in enumerate(source.packets(threading.Event(), 10)):
            if number == 60:
                tap.watch(True)
                assert outlet.sent and all(isinstance(m, LiveData) for m in outlet.sent), "the GOP, at once"
                outlet.sent.clear()
            if number == 120:
                tap.watch(True, sound=True)
                assert outlet.sent == [], "the pictures are not sent again"
            if number == 180:
                break
            if packet.stream is source.audio:
                tap.audio(packet)
            else:
                tap.packet(packet, Stamp(0.0, discontinuity=False))
            phase = "unwatched" if number < 60 else "watched" if number < 120 else "listened"
            sent[phase] += [type(message).__name__ for message in outlet.sent]
            outlet.sent.clear()
    finally:
        source.close()
    assert sent["unwatched"] == ["LiveReset"], "only that the stream (re)started"
    assert set(sent["watched"]) == {"LiveData"}
    assert set(sent["listened"]) == {"LiveData", "LiveAudio"}


SOUND_CODECS = {"aac": ("mp4", 16000), "pcm_alaw": ("mkv", 8000)}  # copied, or converted to AAC by the recorder


def camera_file(folder: Path, codec: str) -> Path:
    """7 s of pictures (a keyframe a second) and a tone in `codec`."""
    container, rate = SOUND_CODECS[codec]
    source = folder / f"camera-{codec}.{container}"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}", "-t", "7", "-c:v", "libx264",
                    "-g", str(FPS), "-bf", "0", "-c:a", codec, "-ac", "1", str(source)], check=True)
    return source


@pytest.fixture(scope="module")
def camera_with_sound(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return camera_file(tmp_path_factory.mktemp("sound"), "aac")


def play_to_recorder(source: Path, recorder: SegmentRecorder, lag: float, *, sound_until: float = 1e9,
                     frozen_from: float = 1e9) -> None:
    """The file's packets to `recorder` in the order a network brings them when the sound comes `lag` s after
    the pictures: sound only up to `sound_until`; from `frozen_from` on the pictures' own time stands still
    (their arrival goes on). Stamps are arrival times."""
    with av.open(str(source)) as container:
        video, sound = container.streams.video[0], container.streams.audio[0]
        recorder.start(video)
        recorder.start_audio(sound)
        packets = [p for p in container.demux(video, sound) if p.size and p.dts is not None and p.time_base]
        arrival = {id(p): float((p.dts or 0) * (p.time_base or 0)) + (lag if p.stream is sound else 0.0)
                   for p in packets}
        frozen: int | None = None
        for packet in sorted(packets, key=lambda p: arrival[id(p)]):
            at = arrival[id(packet)]
            if packet.stream is sound:
                if at < sound_until:
                    recorder.audio(packet)
                continue
            if at >= frozen_from:
                frozen = packet.dts if frozen is None else frozen
                packet.dts = packet.pts = frozen
            recorder.packet(packet, Stamp(1_800_000_000 + at, False))
        recorder.stop("end of the test")


@pytest.mark.parametrize("codec", list(SOUND_CODECS))
@pytest.mark.parametrize("lag", [0.0, 0.4])
def test_sound_later_than_the_pictures_stays_in_the_segment_of_its_time(tmp_path: Path, lag: float,
                                                                        codec: str) -> None:
    """A camera whose sound reaches us `lag` seconds after its pictures (its encoder holds some): each segment
    still holds the sound of its own pictures to their end, none of it left out at the cuts; G.711 too, whose
    converter's held samples close the segment they belong to."""
    finished: list[Segment] = []
    source = camera_file(tmp_path, codec)
    play_to_recorder(source, SegmentRecorder("cam", tmp_path / "segments", 2.0, finished.append), lag)
    assert len(finished) >= 3
    for segment in finished[:-1]:  # the last one's sound ends with the source's
        found = tracks(tmp_path / "segments" / segment.path)
        assert found.audio is not None and found.audio[1] >= found.video[1] - 0.1, (segment.path, found)
        assert found.largest_hole <= HOLE_SECONDS, (segment.path, found)
    assert sum(len(s.keyframes_ms) for s in finished) == 7, "every picture recorded: a keyframe a second"


def held_at_each_picture(recorder: SegmentRecorder) -> list[int]:
    """How many pictures wait at a cut after each picture is given to `recorder` (watching its state)."""
    held: list[int] = []
    given = recorder.packet

    def watched(packet: av.Packet, stamp: Stamp) -> None:
        given(packet, stamp)
        held.append(len(recorder._held))

    recorder.packet = watched  # type: ignore[method-assign]
    return held


def test_a_cut_waits_for_sound_only_while_it_comes_and_never_past_a_second(camera_with_sound: Path,
                                                                          tmp_path: Path) -> None:
    """A camera announcing sound it never sends cuts at the keyframe; one whose sound stops, and whose
    pictures' time then stands still, cuts after a second of arrivals at most."""
    silent_segments: list[Segment] = []
    silent = SegmentRecorder("cam", tmp_path / "silent", 2.0, silent_segments.append)
    silent_held = held_at_each_picture(silent)
    play_to_recorder(camera_with_sound, silent, 0.4, sound_until=0.0)
    assert len(silent_segments) >= 3 and max(silent_held) == 0, "no sound came: nothing to wait for"

    stalled = SegmentRecorder("cam", tmp_path / "stalled", 2.0, lambda _segment: None)
    stalled_held = held_at_each_picture(stalled)
    play_to_recorder(camera_with_sound, stalled, 0.4, sound_until=2.3, frozen_from=2.3)
    assert 0 < max(stalled_held) <= FPS + 1, "a second of pictures at most, though their time stands still"
