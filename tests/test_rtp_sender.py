"""The passthrough RTP sender against a recording DTLS transport: what goes on the wire, and NACK resends."""

from __future__ import annotations

import asyncio
from itertools import accumulate, pairwise
from pathlib import Path

from aiortc import MediaStreamTrack, RTCRtpSender
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters, RTCRtpSendParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, is_rtcp, unwrap_rtx

from api.webrtc.sender import PACING_BITS_PER_SECOND, PACING_BURST_BYTES, PassthroughSender
from ingest.live_hub import LiveFrame, LiveViewer
from tests.support.live import hub_of_camera

H264, RTX = 102, 103
PARAMETERS = RTCRtpSendParameters(
    codecs=[RTCRtpCodecParameters("video/H264", 90000, payloadType=H264),
            RTCRtpCodecParameters("video/rtx", 90000, payloadType=RTX, parameters={"apt": H264})],
    headerExtensions=[RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                      RTCRtpHeaderExtensionParameters(
                          id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")],
    muxId="0")


class RecordingTransport:
    """What RTCRtpSender uses of an RTCDtlsTransport; keeps the RTP it is given (before encryption)."""

    state = "connected"

    def __init__(self) -> None:
        self.rtp: list[bytes] = []

    def _register_rtp_sender(self, sender: RTCRtpSender, parameters: RTCRtpSendParameters) -> None:
        pass

    def _unregister_rtp_sender(self, sender: RTCRtpSender) -> None:
        pass

    async def _send_rtp(self, data: bytes) -> None:
        if not is_rtcp(data):
            self.rtp.append(data)


class FramesTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, frames: list[LiveFrame]) -> None:
        super().__init__()
        self._frames = iter(frames)
        self.sent = asyncio.Event()  # every frame handed to the sender, and the sender back for more

    async def recv(self) -> LiveFrame:  # type: ignore[override]
        frame = next(self._frames, None)
        if frame is None:
            self.sent.set()
            raise MediaStreamError
        return frame


def frames_of_camera(tmp_path: Path) -> list[LiveFrame]:
    hub, packets = hub_of_camera(tmp_path)

    async def collect() -> list[LiveFrame]:
        viewer = LiveViewer(asyncio.get_running_loop())
        hub.subscribe(viewer)
        for packet in packets[:12]:
            hub.publish(packet)
        await asyncio.sleep(0)
        return [viewer.queue.get_nowait() for _ in range(viewer.queue.qsize())]

    return asyncio.run(collect())


def test_frames_go_out_as_consecutive_packets_and_lost_ones_are_resent_over_rtx(tmp_path: Path) -> None:
    frames = frames_of_camera(tmp_path)
    extensions = HeaderExtensionsMap()
    extensions.configure(PARAMETERS)

    async def send() -> tuple[RecordingTransport, PassthroughSender, int]:
        transport = RecordingTransport()
        track = FramesTrack(frames)
        sender = RTCRtpSender(track, transport)  # type: ignore[arg-type]
        PassthroughSender.adopt(sender)
        assert isinstance(sender, PassthroughSender)
        await sender.send(PARAMETERS)
        await asyncio.wait_for(track.sent.wait(), 10)
        await sender.stop()
        sent = len(transport.rtp)
        lost = RtpPacket.parse(transport.rtp[5], extensions).sequence_number
        await sender._retransmit(lost)
        await sender._retransmit(lost - 1000)  # never sent: nothing goes out
        return transport, sender, sent

    transport, sender, sent = asyncio.run(send())
    packets = [RtpPacket.parse(data, extensions) for data in transport.rtp[:sent]]
    assert [p.payload for p in packets] == [payload for frame in frames for payload in frame.rtp[0]]
    assert [b.sequence_number - a.sequence_number for a, b in pairwise(packets)] == [1] * (sent - 1)
    last_of_each_frame = [n - 1 for n in accumulate(len(frame.rtp[0]) for frame in frames)]
    assert [i for i, packet in enumerate(packets) if packet.marker] == last_of_each_frame
    assert {packet.timestamp for packet in packets[:last_of_each_frame[0] + 1]} == {packets[0].timestamp}
    assert all(p.ssrc == sender._ssrc and p.payload_type == H264 and p.extensions.mid == "0"
               and p.extensions.abs_send_time is not None for p in packets)
    assert len(transport.rtp) == sent + 1, "one resend: the packet never sent is not"
    resent = RtpPacket.parse(transport.rtp[-1], extensions)
    assert resent.payload_type == RTX and resent.ssrc == sender._rtx_ssrc
    original = unwrap_rtx(resent, payload_type=H264, ssrc=sender._ssrc)
    assert (original.sequence_number, original.payload) == (packets[5].sequence_number, packets[5].payload)


def test_a_large_keyframe_is_paced_not_sent_in_one_burst(tmp_path: Path) -> None:
    keyframe = frames_of_camera(tmp_path)[0]
    keyframe.rtp = ([bytes(1200)] * 300, 0)  # a 360 kB keyframe, as a 1080p camera may send

    async def send() -> float:
        transport = RecordingTransport()
        track = FramesTrack([keyframe])
        sender = RTCRtpSender(track, transport)  # type: ignore[arg-type]
        PassthroughSender.adopt(sender)
        began = asyncio.get_running_loop().time()
        await sender.send(PARAMETERS)
        await asyncio.wait_for(track.sent.wait(), 10)
        took = asyncio.get_running_loop().time() - began
        await sender.stop()
        assert len(transport.rtp) == 300
        return took

    bursts = 300 * 1200 // PACING_BURST_BYTES  # full bursts before the last packet, each followed by a pause
    assert asyncio.run(send()) >= bursts * PACING_BURST_BYTES * 8 / PACING_BITS_PER_SECOND
