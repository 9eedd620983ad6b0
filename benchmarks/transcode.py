"""Live transcoding of an H.265 camera for viewers (api/webrtc/transcoder.py): CPU per second of video for
a 1080p@15 H.265 main stream at about 4 Mbit/s made H.264 at 720 lines, against a plain decode of the same
frames (what any H.265 viewer costs at the least) in the same run. Prints one JSON line.

The transcoder is driven through its hubs as the station drives it: frames published into the camera's
hub on the event loop, the transcoder's own thread decoding and encoding, the output hub's frames counted.
CPU is the whole process's (the decoders' slice threads are threads of their own); the feeding loop's
share is small and counted against the transcoder.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.webrtc.transcoder import LiveTranscoder
from benchmarks.media import CACHE
from ingest.annexb import AnnexBConverter
from ingest.live_hub import LiveFrame, LiveViewer
from ingest.live_units import EncodedFrame

SECONDS = 20
TARGET_CORE_PERCENT = 60.0  # one transcoded 1080p viewer-camera: at most this share of a core


def hevc_file() -> Path:
    path = CACHE / f"hevc-1080p15-4mbit-{SECONDS}s.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.mp4")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=15",
                        "-t", str(SECONDS), "-vf", "noise=alls=12:allf=t", "-c:v", "libx265", "-preset", "veryfast",
                        "-x265-params", "log-level=error:bframes=0:keyint=30", "-b:v", "4M", str(partial)],
                       check=True)
        partial.rename(path)
    return path


def camera_frames(path: Path) -> list[EncodedFrame]:
    """The frames as the recorder process sends them: Annex B, parameter sets in front of keyframes."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        converter = AnnexBConverter(stream)
        assert stream.time_base is not None
        return [EncodedFrame(converter.convert(p), int(p.pts), stream.time_base, bool(p.is_keyframe))
                for p in container.demux(stream) if p.size and p.pts is not None]


def decode_seconds(frames: list[EncodedFrame]) -> float:
    """CPU seconds of decoding the frames as the transcoder's decoder does."""
    decoder = av.CodecContext.create("hevc", "r")
    decoder.thread_type = "SLICE"
    began = time.process_time()
    for encoded in frames:
        packet = av.Packet(encoded.data)
        packet.pts, packet.time_base = encoded.pts, encoded.time_base
        decoder.decode(packet)
    return time.process_time() - began


async def transcode(frames: list[EncodedFrame]) -> tuple[float, float, int]:
    """(transcoder thread CPU seconds, wall seconds, frames out) with the frames fed as fast as it takes them."""
    from ingest.live_hub import LiveHub

    source = LiveHub()
    transcoder = LiveTranscoder("bench", source)
    viewer = LiveViewer(asyncio.get_running_loop())
    viewer.queue = asyncio.Queue()  # unbounded: count every frame
    transcoder.hub.subscribe(viewer)
    began, cpu_began = time.monotonic(), time.process_time()
    for encoded in frames:
        source.publish(encoded)
        await asyncio.sleep(0)  # hand the frame to the transcoder's listener
        while transcoder.backlog > 10:  # noqa: ASYNC110 - fed as fast as it takes them, never dropping
            await asyncio.sleep(0.001)
    out = 0
    while out < len(frames) - 2:
        frame: LiveFrame = await asyncio.wait_for(viewer.queue.get(), 30)
        out += 1 if frame else 0
    wall, cpu = time.monotonic() - began, time.process_time() - cpu_began
    transcoder.hub.unsubscribe(viewer)
    return cpu, wall, out


def main() -> None:
    frames = camera_frames(hevc_file())
    video_seconds = len(frames) / 15
    decode = min(decode_seconds(frames) for _ in range(2))
    cpu, wall, out = asyncio.run(transcode(frames))
    print(json.dumps({
        "benchmark": "transcode",
        "input": f"1920x1080@15 H.265 ~4 Mbit/s, {SECONDS} s, made H.264 at 1280x720 (ultrafast, zerolatency)",
        "frames_in": len(frames), "frames_out": out,
        "core_percent_per_transcoded_camera": round(cpu / video_seconds * 100, 1),
        "decode_only_core_percent": round(decode / video_seconds * 100, 1),
        "ratio_to_decode": round(cpu / decode, 2) if decode else None,
        "realtime_factor": round(video_seconds / wall, 1),
        "targets": {"core_percent_per_transcoded_camera": TARGET_CORE_PERCENT},
    }))


if __name__ == "__main__":
    main()
