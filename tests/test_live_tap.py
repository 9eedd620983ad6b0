"""The recorder's live tap: unwatched streams are held as the demuxer's packets, and a watcher arriving
mid-GOP still gets the GOP from its keyframe, decodable, with the camera's timestamps."""

from __future__ import annotations

import threading
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
