"""A post's live view as fragmented MP4 (`GET /api/cameras/{name}/live.mp4`): a real RTSP camera through a
real station, the bytes decoded by PyAV; the WebRTC view's checks, limit, endings and audit rows."""

from __future__ import annotations

import asyncio
import io
import time
from fractions import Fraction
from itertools import accumulate, pairwise
from pathlib import Path

import av
from fastapi.testclient import TestClient

from api.app import create_app
from api.live_mp4 import Fragmenter, keyframe_size
from ingest.fmp4 import BoxReader, starts_with_keyframe
from ingest.live_hub import LiveFrame
from tests.conftest import station_config, wait_for
from tests.support.live import hub_of_camera
from tests.support.rtsp import RtspServer, free_port


def pictures(data: bytes) -> list[tuple[int, int, float]]:
    """(width, height, time) of every picture the MP4 bytes decode to."""
    with av.open(io.BytesIO(data), "r") as container:
        return [(frame.width, frame.height, frame.time or 0.0) for frame in container.decode(video=0)]


def read_until(stream: object, enough: int) -> tuple[bytes, float]:
    """At least `enough` bytes of a streamed answer, and the seconds to its first bytes."""
    began, first, body = time.monotonic(), 0.0, b""
    for chunk in stream.iter_bytes():  # type: ignore[attr-defined]
        first = first or time.monotonic() - began
        body += chunk
        if len(body) >= enough:
            break
    return body, first


def test_a_live_mp4_is_the_camera_s_h264_from_its_last_keyframe(cameras: RtspServer, tmp_path: Path,
                                                               make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")}])
    station, operator = make_station(config)
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "the camera streaming")
    app = create_app(station)
    with TestClient(app) as client:
        client.headers.update(operator.headers)
        with client.stream("GET", "/api/cameras/cam0/live.mp4") as answer:
            assert answer.status_code == 200  # the camera's one stream: main, whatever was asked
            assert answer.headers["content-type"] == "video/mp4" and answer.headers["x-live-quality"] == "main"
            assert answer.headers["x-live-transcoded"] == "false" and answer.headers["cache-control"] == "no-store"
            body, first = read_until(answer, 30_000)
        print(f"first bytes of the live MP4 after {first:.2f} s")
        shown = pictures(body)
        assert {(w, h) for w, h, _ in shown} == {(320, 240)} and len(shown) >= 15
        assert all(b[2] > a[2] for a, b in pairwise(shown)), "in order, never back"
        boxes = list(BoxReader().feed(body))
        assert [kind for kind, _ in boxes[:3]] == [b"ftyp", b"moov", b"moof"]
        assert starts_with_keyframe(boxes[2][1]), "the stream starts at a keyframe"
        hub = station.hub("cam0", "record")
        wait_for(lambda: hub.viewer_count == 0, 10, "the stream leaving the camera's hub")
    audit = [(e.action, e.detail) for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="cam0")]
    assert audit == [("live_stop", ""), ("live_start", "main mp4")]  # newest first


def test_an_h265_camera_s_live_mp4_is_the_live_view_s_shared_h264_transcode(tmp_path: Path, make_station) -> None:
    with RtspServer(["cam0"], codec="h265", width=640, height=360) as server:
        config = station_config(tmp_path, [{"name": "hevc", "record_url": server.url("cam0")}])
        station, operator = make_station(config)
        wait_for(lambda: (report := station.report("hevc")) and report.record.codec == "hevc", 20, "the H.265 stream")
        with TestClient(create_app(station)) as client, client.stream(
                "GET", "/api/cameras/hevc/live.mp4", headers=operator.headers) as answer:
            assert answer.status_code == 200 and answer.headers["x-live-transcoded"] == "true"
            body, _ = read_until(answer, 40_000)
    with av.open(io.BytesIO(body), "r") as container:
        assert container.streams.video[0].codec_context.name == "h264"
    shown = pictures(body)
    assert len(shown) >= 5 and {(w, h) for w, h, _ in shown} == {(640, 360)}


def test_a_live_mp4_is_checked_limited_and_ended_as_a_live_view(cameras: RtspServer, tmp_path: Path,
                                                               make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")},
                                       {"name": "cam1", "record_url": cameras.url("cam1")},
                                       {"name": "off", "record_url": cameras.url("cam1"), "enabled": False},
                                       {"name": "dead", "record_url": f"rtsp://127.0.0.1:{free_port()}/none"}],
                            server={"max_live_views_per_user": 1})
    station, operator = make_station(config)
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["cam0"])
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "the camera streaming")
    with TestClient(create_app(station)) as client:
        token = client.post("/api/auth/login", json={"username": "nha-so-5", "password": "household-pass"}).json()
        household = {"Authorization": f"Bearer {token['token']}"}
        client.cookies.clear()  # the login's cookie: each call below says who it is
        assert client.get("/api/cameras/cam1/live.mp4", headers=household).status_code == 404  # not granted
        assert client.get("/api/cameras/nowhere/live.mp4", headers=operator.headers).status_code == 404
        assert client.get("/api/cameras/off/live.mp4", headers=operator.headers).status_code == 409
        wait_for(lambda: (report := station.report("dead")) and report.record.state == "offline", 20, "dead offline")
        began = time.monotonic()
        offline = client.get("/api/cameras/dead/live.mp4", headers=operator.headers)
        assert offline.status_code == 503 and "is offline since" in offline.json()["detail"], offline.text
        assert offline.headers["retry-after"] == "10" and time.monotonic() - began < 5, "at once, not an empty 200"
        assert client.get("/api/cameras/dead/live.mp4", headers=household).status_code == 404, "not granted: no hint"
        assert client.get("/api/cameras/cam0/live.mp4", headers=operator.headers,
                          params={"quality": "best"}).status_code == 422
        assert client.get("/api/cameras/cam0/live.mp4").status_code == 401
        with client.stream("GET", "/api/cameras/cam0/live.mp4", headers=household) as answer:
            assert answer.status_code == 200
            chunks = answer.iter_bytes()
            assert next(chunks)
            assert client.get("/api/cameras/cam0/live.mp4", headers=household).status_code == 429  # one each
            assert client.post("/api/auth/logout", headers=household).status_code == 200
            began = time.monotonic()
            for _ in chunks:  # ends by itself: the session is over
                assert time.monotonic() - began < 10
    stops = [e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="cam0", action="live_stop")]
    assert stops == ["logged out"]


def test_fragments_start_at_keyframes_and_time_goes_on_across_a_restart(tmp_path: Path) -> None:
    _hub, frames = hub_of_camera(tmp_path)  # 15 fps, a keyframe every 10 frames
    sizes: list[tuple[int, int]] = []

    async def size_of(*_: object) -> tuple[int, int]:
        sizes.append((320, 240))
        return 320, 240

    async def run() -> bytes:
        fragmenter = Fragmenter(size_of)
        out = b""
        for encoded in frames + frames:  # the second time, the camera's clock starts again
            packet = av.Packet(encoded.data)
            packet.pts, packet.time_base, packet.is_keyframe = encoded.pts, encoded.time_base, encoded.keyframe
            out += await fragmenter.add(LiveFrame(packet))
        return out

    body = asyncio.run(run())
    assert len(sizes) == 1, "one init segment: the parameter sets did not change"
    moofs = [data for kind, data in BoxReader().feed(body) if kind == b"moof"]
    assert sum(starts_with_keyframe(moof) for moof in moofs) == sum(f.keyframe for f in frames) * 2
    assert all(len(moof) < 200 for moof in moofs)  # the pictures are in the mdat, the moof only says where
    shown = pictures(body)
    assert len(frames) * 2 - 8 <= len(shown) < len(frames) * 2  # the last fragment waits for a frame after it
    assert all(b[2] > a[2] for a, b in pairwise(shown))
    assert abs(shown[-1][2] - (len(shown) - 1) / 15) < 0.05  # one frame's step across the restart


def test_a_new_resolution_mid_stream_brings_a_new_init_segment_and_plays_at_its_size() -> None:
    """The camera changes resolution without reconnecting (new SPS/PPS on a keyframe): the stream goes on with
    a new init segment, as MSE expects, and each part decodes at its own size."""
    frames: list[LiveFrame] = []
    for width, height in ((320, 240), (640, 360)):
        encoder = av.CodecContext.create("libx264", "w")
        assert isinstance(encoder, av.VideoCodecContext)
        encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
        encoder.time_base, encoder.gop_size = Fraction(1, 15), 10
        encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for n in range(20):
            picture = av.VideoFrame(width, height, "yuv420p")
            picture.pts = len(frames) + n
            for packet in encoder.encode(picture):
                packet.time_base = Fraction(1, 15)
                frames.append(LiveFrame(packet))

    async def run() -> bytes:
        fragmenter = Fragmenter(keyframe_size)
        out = b""
        for frame in frames:
            out += await fragmenter.add(frame)
        return out

    body = asyncio.run(run())
    boxes = list(BoxReader().feed(body))
    assert [kind for kind, _ in boxes].count(b"moov") == 2
    starts = list(accumulate((len(data) for _, data in boxes), initial=0))
    second = [start for start, (kind, _) in zip(starts, boxes, strict=False) if kind == b"ftyp"][1]
    assert {(w, h) for w, h, _ in pictures(body[:second])} == {(320, 240)}
    assert {(w, h) for w, h, _ in pictures(body[second:])} == {(640, 360)}
    first_fragment = next(data for kind, data in BoxReader().feed(body[second:]) if kind == b"moof")
    assert starts_with_keyframe(first_fragment)
