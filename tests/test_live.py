"""Live view: a real WebRTC peer (aiortc, decoding) receives the camera's H.264 passed through."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pytest
from aiortc import RTCSessionDescription
from fastapi.testclient import TestClient

from api.app import create_app
from api.webrtc.live_sources import choose_stream
from api.webrtc.sender import PassthroughSender
from api.webrtc.sessions import CATCH_UP_FPS, LiveSessions, PassthroughTrack
from api.webrtc.udp_segments import SegmentingSocket
from ingest.browser_h264 import scaled_size
from ingest.live_hub import LiveViewer
from tests.conftest import station_config, wait_for
from tests.support.live import hub_of_camera, offering_viewer
from tests.support.rtsp import RtspServer

NAL_STAP_A, NAL_SPS = 24, 7


async def watch(client: TestClient, camera: str, frames_wanted: int,
                quality: str = "sub") -> tuple[float, list[tuple[int, int]]]:
    """Seconds to the first decoded frame, and (width, pts) of the frames received."""
    peer, arrived = await offering_viewer()
    began = time.monotonic()
    response = await asyncio.to_thread(client.post, f"/api/cameras/{camera}/live",
                                       json={"sdp": peer.localDescription.sdp, "type": "offer", "quality": quality})
    assert response.status_code == 200, response.text
    answer = response.json()
    await peer.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    track = await asyncio.wait_for(arrived, 10)
    frames: list[tuple[int, int]] = []
    first = None
    try:
        while len(frames) < frames_wanted:
            frame = await asyncio.wait_for(track.recv(), 10)
            first = first or time.monotonic() - began
            frames.append((frame.width, frame.pts))
    finally:
        await peer.close()
    return first or 0.0, frames


def test_viewer_gets_the_passed_through_picture_and_is_cleaned_up(cameras: RtspServer, tmp_path: Path,
                                                                 make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")},
                                       {"name": "cam1", "record_url": cameras.url("cam1")}])
    station, operator = make_station(config)
    wait_for(lambda: station.index.segments("cam0", 0, 2**62), 20, "the camera streaming")
    app = create_app(station)
    with TestClient(app) as client:
        client.headers.update(operator.headers)
        first, frames = asyncio.run(watch(client, "cam0", 20))
        assert {width for width, _ in frames} == {320}
        assert all(b > a for (_, a), (_, b) in pairwise(frames)), "frames keep coming, in order"
        assert first < 5
        hub = station.hub("cam0", "record")
        wait_for(lambda: hub.viewer_count == 0 and app.state.live.count == 0, 15, "the viewer cleaned up")
        results = asyncio.run(_two_viewers(client))
        assert all(len(frames) == 10 for _, frames in results)
    actions = [e.action for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="cam0")]
    assert actions.count("live_start") == 3 and actions.count("live_stop") >= 1


def test_an_h265_camera_is_watched_as_h264_encoded_again_only_while_watched(tmp_path: Path,
                                                                           make_station) -> None:
    with RtspServer(["cam0"], codec="h265", width=640, height=360) as server:
        config = station_config(tmp_path, [{"name": "hevc", "record_url": server.url("cam0")}])
        station, operator = make_station(config)
        wait_for(lambda: (report := station.report("hevc")) and report.record.codec == "hevc", 20, "the H.265 stream")
        app = create_app(station)
        with TestClient(app) as client:
            client.headers.update(operator.headers)
            answer = client.post("/api/cameras/hevc/live", json={"sdp": "v=0\r\n", "type": "offer"})
            assert answer.status_code == 400  # nothing starts for an unusable offer
            first, frames = asyncio.run(watch(client, "hevc", 20, quality="main"))
            assert {width for width, _ in frames} == {640}
            assert all(b > a for (_, a), (_, b) in pairwise(frames)), "frames keep coming, in order"
            assert first < 8
            source = station.hub("hevc", "record")
            wait_for(lambda: source.viewer_count == 0, 15, "the transcoder leaving the camera's stream")
            wait_for(lambda: "transcode-hevc/record" not in {t.name for t in threading.enumerate()}, 10,
                     "the transcoding thread ended")
    audit = [e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62, camera="hevc")
             if e.action == "live_start"]
    assert audit == ["main transcoded"]


def test_the_live_stream_is_the_cameras_h264_when_it_has_some() -> None:
    assert choose_stream("detect", {"detect": "h264", "record": "hevc"}) == ("detect", False)
    assert choose_stream("record", {"detect": "h264", "record": "hevc"}) == ("detect", False)
    assert choose_stream("detect", {"detect": "hevc", "record": "hevc"}) == ("detect", True)
    assert choose_stream("detect", {"record": "hevc"}) == ("record", True)
    assert choose_stream("record", {"record": None}) == ("record", False)  # not known yet: as most cameras send
    assert scaled_size(1920, 1080) == (1280, 720) and scaled_size(2560, 1440) == (1280, 720)
    assert scaled_size(640, 360) == (640, 360) and scaled_size(2592, 1944) == (960, 720)


async def _two_viewers(client: TestClient):
    return await asyncio.gather(watch(client, "cam0", 10), watch(client, "cam0", 10))


def test_live_refuses_cameras_the_caller_may_not_see(cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": "cam0", "record_url": cameras.url("cam0")},
                                       {"name": "cam1", "record_url": cameras.url("cam1")}])
    station, _operator = make_station(config)
    station.accounts.add("nha-so-5", "household-pass", "viewer")
    station.accounts.grant("nha-so-5", ["cam0"])
    client = TestClient(create_app(station))
    token = client.post("/api/auth/login", json={"username": "nha-so-5", "password": "household-pass"}).json()
    offer = {"sdp": "v=0\r\n", "type": "offer"}
    refused = client.post("/api/cameras/cam1/live", json=offer, headers={"Authorization": f"Bearer {token['token']}"})
    assert refused.status_code == 404
    assert client.post("/api/cameras/cam1/live", json=offer, headers={"Origin": "http://testserver"}).status_code == 404
    garbage = client.post("/api/cameras/cam0/live", json=offer, headers={"Authorization": f"Bearer {token['token']}"})
    assert garbage.status_code == 400
    head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    section = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    for malformed in (head + "m=video\r\n", head + "m=video abc UDP/TLS/RTP/SAVPF 96\r\n",
                      head + section + "a=candidate:1\r\n"):  # aiortc raises other than ValueError on these
        answer = client.post("/api/cameras/cam0/live", json={"sdp": malformed, "type": "offer"},
                             headers={"Authorization": f"Bearer {token['token']}"})
        assert answer.status_code == 400 and answer.json()["detail"].startswith("unusable SDP offer"), answer.text
    actions = [e.action for e in station.audit.entries(start_ms=0, end_ms=2**62) if e.username == "nha-so-5"]
    assert "live_start" not in actions and "live_stop" not in actions, "an offer refused began no view"


def test_viewers_share_one_split_from_the_last_keyframe(tmp_path: Path) -> None:
    hub, packets = hub_of_camera(tmp_path)

    async def watch() -> list[list]:
        loop = asyncio.get_running_loop()
        for packet in packets[:13]:
            hub.publish(packet)
        viewers = [LiveViewer(loop), LiveViewer(loop)]
        for viewer in viewers:
            hub.subscribe(viewer)
        hub.publish(packets[13])
        await asyncio.sleep(0)
        return [[viewer.queue.get_nowait() for _ in range(viewer.queue.qsize())] for viewer in viewers]

    first, second = asyncio.run(watch())
    assert len(first) == 4 and all(a is b for a, b in zip(first, second, strict=True))  # one split each
    assert first[0].is_keyframe and not any(frame.is_keyframe for frame in first[1:])
    payloads, _ = first[0].rtp
    assert payloads[0][0] & 0x1F == NAL_STAP_A and payloads[0][3] & 0x1F == NAL_SPS, "SPS/PPS lead the keyframe"
    assert [b.rtp[1] - a.rtp[1] for a, b in pairwise(first)] == [6000] * 3, "90 kHz at 15 fps"


def test_a_new_viewers_backlog_is_spread_out_not_burst(tmp_path: Path) -> None:
    hub, packets = hub_of_camera(tmp_path)

    async def receive() -> list[float]:
        for packet in packets[:16]:  # the GOP held for a new viewer: a keyframe and 5 more
            hub.publish(packet)
        loop = asyncio.get_running_loop()
        track = PassthroughTrack(hub)
        started = loop.time()
        times = []
        for _ in range(6):
            await track.recv()
            times.append(loop.time() - started)
        track.stop()
        return times

    times = asyncio.run(receive())
    assert times[0] < 0.5 / CATCH_UP_FPS, "the keyframe goes out at once"
    assert all(b - a >= 0.9 / CATCH_UP_FPS for a, b in pairwise(times)), times


def test_packets_the_socket_refuses_go_through_the_event_loops_transport_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames go straight to the viewer's socket; what it refuses (its buffer full) goes through the event
    loop's transport and arrives in order, with nothing lost and resent."""
    hub, packets = hub_of_camera(tmp_path)
    direct, refused, resent = [], [], []
    real_send = SegmentingSocket.send

    def half_fits(self: SegmentingSocket, datagrams: Sequence[bytes], address: tuple[str, int]) -> int:
        direct.append(real_send(self, datagrams[:len(datagrams) // 2], address))
        refused.append(len(datagrams) - direct[-1])
        return direct[-1]

    async def record_resend(self: PassthroughSender, sequence_number: int) -> None:
        resent.append(sequence_number)

    async def ended() -> None:
        pass

    monkeypatch.setattr(SegmentingSocket, "send", half_fits)
    monkeypatch.setattr(PassthroughSender, "_retransmit", record_resend)

    async def watch() -> list[int]:
        sessions = LiveSessions(connect_timeout=30)
        viewer, arrived = await offering_viewer()
        view = await sessions.answer(viewer.localDescription.sdp, "offer", hub, on_end=ended)
        await viewer.setRemoteDescription(view.answer)
        track = await asyncio.wait_for(arrived, 10)
        for packet in packets:
            hub.publish(packet)
            await asyncio.sleep(1 / 15)
        try:
            return [(await asyncio.wait_for(track.recv(), 10)).pts for _ in range(len(packets) - 2)]
        finally:
            await viewer.close()
            await sessions.close_all()

    pts = asyncio.run(watch())
    assert all(b > a for a, b in pairwise(pts)), pts
    assert sum(direct) > 0 and sum(refused) > 0, "both ways were taken"
    assert resent == [], "nothing lost, nothing out of order (the viewer asks at once for a gap)"
