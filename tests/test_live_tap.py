"""The recorder's live tap: unwatched streams are held as the demuxer's packets, and a watcher arriving
mid-GOP still gets the GOP from its keyframe, decodable, with the camera's timestamps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import av

from ingest.clock import ReceiveClock
from ingest.source import SourceOptions, open_source
from nvr.runtime.live_tap import LiveTap
from nvr.runtime.messages import LiveData, LiveReset
from storage.recorder import SegmentRecorder
from tests.support.live import SentMessages
from tests.support.media import encode_video


def test_a_watcher_mid_gop_gets_the_gop_from_its_keyframe_after_the_recorder_muxed_it(tmp_path: Path) -> None:
    """An MP4 file (length-prefixed H.264: the bitstream filter path), tapped before the segment recorder
    that rewrites each packet's timestamps when it muxes: what a late watcher gets decodes from its first
    frame and carries the camera's own timestamps."""
    video = encode_video(tmp_path / "gop.mp4", seconds=3, size="160x120", gop=15)
    outlet = SentMessages()
    tap = LiveTap("cam0", "record", outlet)  # type: ignore[arg-type]
    recorder = SegmentRecorder("cam0", tmp_path / "segments", 1, lambda _segment: None)  # a segment a GOP
    source = open_source(f"file://{video}", SourceOptions(realtime=False, loop=False))
    clock = ReceiveClock(live=False)
    original: list[tuple[int, bool]] = []  # (pts, keyframe) as the demuxer gave them
    try:
        tap.start(source.stream)
        recorder.start(source.stream)
        for number, packet in enumerate(source.packets(threading.Event(), 10)):
            assert packet.dts is not None and packet.pts is not None
            original.append((packet.pts, packet.is_keyframe))
            stamp = clock.stamp(float(packet.dts * packet.time_base), keyframe=packet.is_keyframe)
            tap.packet(packet, stamp)
            recorder.packet(packet, stamp)
            if number == 20:  # five frames into the second GOP
                assert [type(m) for m in outlet.sent] == [LiveReset], "nothing crosses while nobody watches"
                outlet.sent.clear()
                tap.watch(True)
    finally:
        recorder.stop("end")
        source.close()
    frames = [m.frame for m in outlet.sent if isinstance(m, LiveData)]
    assert [(f.pts, f.keyframe) for f in frames] == original[15:], "the GOP from its keyframe, then every frame"
    decoder = av.CodecContext.create("h264", "r")
    pictures = [picture for f in frames for picture in decoder.decode(av.Packet(f.data))]
    pictures += decoder.decode(None)
    assert len(pictures) == len(frames), "Annex B with the parameter sets: decodable from the first frame"
    assert (pictures[0].width, pictures[0].height) == (160, 120)


def _damaged(video: Path, out: Path, every: int) -> None:
    """`video` remuxed with frame 5 of every `every` frames damaged: its NAL length prefix says more bytes than the
    packet holds, as a bit error or a bad write leaves it."""
    with av.open(str(video)) as source, av.open(str(out), "w") as sink:
        stream = source.streams.video[0]
        copy = sink.add_stream_from_template(stream)
        for number, packet in enumerate(source.demux(stream)):
            if packet.dts is None:
                continue
            written: av.Packet = packet
            if number % every == 5:
                data = bytearray(bytes(packet))
                data[0:4] = (4 * len(data)).to_bytes(4, "big")
                written = av.Packet(bytes(data))
                written.pts, written.dts, written.time_base = packet.pts, packet.dts, packet.time_base
            written.stream = copy
            sink.mux(written)


def _tapped(video: Path, after_each: Callable[[LiveTap, int], None], watched_at_the_end: bool = False
            ) -> SentMessages:
    """What a live tap sends of a file camera's packets (`after_each` called after each: the tap, its number)."""
    outlet = SentMessages()
    tap = LiveTap("cam0", "record", outlet)  # type: ignore[arg-type]
    source = open_source(f"file://{video}", SourceOptions(realtime=False, loop=False))
    clock = ReceiveClock(live=False)
    try:
        tap.start(source.stream)
        for number, packet in enumerate(source.packets(threading.Event(), 10)):
            assert packet.dts is not None
            tap.packet(packet, clock.stamp(float(packet.dts * packet.time_base), keyframe=packet.is_keyframe))
            after_each(tap, number)
        if watched_at_the_end:
            tap.watch(True)
    finally:
        source.close()
    return outlet


def test_a_damaged_packet_ends_the_gop_there_and_the_view_goes_on_at_the_next_keyframe(tmp_path: Path) -> None:
    """A file camera's packet the bitstream filter refuses: before, the error went up from `watch` into the thread
    serving the station's commands, and snapshots and live views of every camera of the recorder stopped."""
    video = tmp_path / "damaged.mp4"
    _damaged(encode_video(tmp_path / "plain.mp4", seconds=3, size="160x120", gop=15), video, 15)

    def watched_from_packet_10(tap: LiveTap, number: int) -> None:
        if number == 10:  # the damaged packet (5) is in the GOP held
            tap.watch(True)

    outlet = _tapped(video, watched_from_packet_10)
    frames = [m.frame for m in outlet.sent if isinstance(m, LiveData)]
    keyframes = [f for f in frames if f.keyframe]
    assert len(frames) == 5 + 2 * 5 and len(keyframes) == 3, "each GOP up to its damaged packet, from its keyframe"


def test_a_gop_without_a_keyframe_for_too_long_is_dropped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("nvr.runtime.live_tap.MAX_GOP_BYTES", 20_000)
    video = encode_video(tmp_path / "long-gop.mp4", seconds=4, size="320x240", gop=60, bitrate="1M")

    def held_at_most_the_cap(tap: LiveTap, _number: int) -> None:
        assert sum(held.packet.size for held in tap._gop if hasattr(held, "packet")) <= 20_000

    outlet = _tapped(video, held_at_most_the_cap, watched_at_the_end=True)
    assert not [m for m in outlet.sent if isinstance(m, LiveData)], "past the cap, nothing held until a keyframe"


def test_a_failing_command_leaves_the_recorder_serving_the_others() -> None:
    """The thread serving the station's commands goes on after one fails (and a snapshot asked still gets its
    answer, empty): it serves every camera of the recorder."""
    from types import SimpleNamespace

    from nvr.runtime.messages import SnapshotReply, SnapshotRequest, Watch
    from nvr.runtime.recorder_process import RecorderProcess

    class Broken:
        def watch(self, _on: bool, _sound: bool) -> None:
            raise av.InvalidDataError(1094995529, "Invalid data found when processing input")

        def snapshot(self) -> bytes:
            raise av.InvalidDataError(1094995529, "Invalid data found when processing input")

    class Good:
        def snapshot(self) -> bytes:
            return b"jpeg"

    commands = [Watch("bad", "record", True), SnapshotRequest(1, "bad"), SnapshotRequest(2, "good")]

    class Connection:
        def recv(self) -> object:
            if not commands:
                raise EOFError
            return commands.pop(0)

    outlet = SentMessages()
    running = {"bad": SimpleNamespace(taps={"record": Broken()}, feed=Broken()),
               "good": SimpleNamespace(taps={}, feed=Good())}
    process = SimpleNamespace(_running=running, _outlet=outlet, _reload=threading.Event(), shard=0)
    process._command = lambda message: RecorderProcess._command(process, message)  # type: ignore[arg-type]
    RecorderProcess._serve(process, Connection())  # type: ignore[arg-type]
    assert outlet.sent == [SnapshotReply(1, None), SnapshotReply(2, b"jpeg")]
