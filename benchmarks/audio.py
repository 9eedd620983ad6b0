"""Audio cost: what recording a camera's sound and sending it live take, in CPU microseconds per second of
audio, through the station's own classes. Prints one JSON line.

- record, G.711 A-law 8 kHz (40 ms packets, as Hikvision and Dahua send it) converted to AAC in the ingest
  thread (storage/audio_track.py), with the CPU of each call for a packet (most only hold the packet; one
  in about 12 converts half a second): what a picture can wait behind;
- record, AAC 16 kHz copied as it comes;
- live, per listener: G.711 passed through (cut into 20 ms packets), AAC converted to Opus;
- whole cameras: the ingest threads of GStreamer RTSP cameras (320x240@15 H.264 and a microphone: G.711 in
  40 ms packets, or AAC) recorded side by side, their sound recorded or not, and one without a microphone:
  what receiving the sound and recording it add to a camera's thread, at a live camera's pace.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.audio.stream
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.webrtc.audio import g711_packets
from api.webrtc.opus import AacToOpus
from ingest.live_units import AudioChunk
from ingest.source import SourceOptions
from ingest.worker import Backoff, StreamWorker
from storage.audio_track import AacEncoder, audio_track
from storage.recorder import SegmentRecorder
from tests.support.rtsp import RtspServer

G711_PACKET = 320  # samples: 40 ms at 8 kHz


def speech_like(rate: int, seconds: int) -> np.ndarray:
    """A tone under noise that changes every 200 ms: nothing an encoder can coast through."""
    rng = np.random.default_rng(7)
    t = np.arange(rate * seconds) / rate
    loudness = np.repeat(rng.uniform(0.05, 0.6, seconds * 5), rate // 5)
    signal = loudness * np.sin(2 * np.pi * 300 * t) + rng.normal(0, 0.05, t.size)
    return (signal.clip(-1, 1) * 32767).astype(np.int16)


def camera_file(folder: Path, codec: str, rate: int, seconds: int) -> Path:
    """The camera's audio as a stream file: G.711 in 40 ms packets, or AAC as a camera's encoder makes it."""
    path = folder / f"{codec}.nut"
    samples = speech_like(rate, seconds)
    with av.open(str(path), "w") as output:
        stream: av.stream.Stream
        if codec == "aac":
            encoder = AacEncoder(rate)  # an AAC-LC stream like a camera's
            stream = output.add_stream_from_template(encoder.stream)
            encode: Callable[[av.AudioFrame | None], list[av.Packet]] = encoder.encode
        else:
            own = output.add_stream(codec, rate=rate, layout="mono")
            assert isinstance(own, av.audio.stream.AudioStream)
            stream, encode = own, own.encode
        for start in range(0, samples.size, G711_PACKET):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + G711_PACKET], format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            for packet in encode(frame):
                packet.stream = stream
                output.mux(packet)
        for packet in encode(None):
            packet.stream = stream
            output.mux(packet)
    return path


def recording_cost(path: Path, seconds: int) -> tuple[float, list[float]]:
    """(µs of CPU per second of audio, µs of CPU of each packet) of the recorder's conversion. CPU, not wall
    time: on a loaded machine the wall time of one packet is mostly the time the thread was not running."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        packets = [packet for packet in container.demux(stream) if packet.size]
        track = audio_track(stream)
        each = []
        for packet in packets:
            began = time.thread_time()
            track.convert(packet)
            each.append((time.thread_time() - began) * 1e6)
        return sum(each) / seconds, each


def live_cost(path: Path, seconds: int, convert: Callable[[AudioChunk], list[av.Packet]]) -> float:
    """µs of CPU per second of audio for one listener's conversion."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.time_base is not None
        chunks = [AudioChunk(bytes(p), p.pts or 0, stream.time_base, stream.codec_context.extradata)
                  for p in container.demux(stream) if p.size]
    began = time.process_time()
    for chunk in chunks:
        convert(chunk)
    return (time.process_time() - began) / seconds * 1e6


def thread_cpu_seconds(name: str) -> float:
    """User + system CPU of this process's thread called `name` (from /proc: it is another thread's)."""
    thread = next(t for t in threading.enumerate() if t.name == name)
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def camera_costs(seconds: int, folder: Path) -> dict[str, float]:
    """% of a core each camera's ingest thread took while recording its pictures, by microphone and whether its
    sound was recorded too."""
    microphones = {"g711_alaw_recorded": "pcma", "g711_alaw_ignored": "pcma", "aac_recorded": "aac",
                   "aac_ignored": "aac"}
    names = [*microphones, "no_microphone"]
    with RtspServer(names, audio=microphones) as server:
        workers = []
        for name in names:
            recorder = SegmentRecorder(name, folder / "segments", 60, lambda _segment: None)
            workers.append(StreamWorker(name, "record", server.url(name), SourceOptions(), stall_seconds=10,
                                        backoff=Backoff(1, 1), sinks=[recorder],
                                        audio_sinks=[recorder] if name.endswith("recorded") else []))
        for worker in workers:
            worker.start()
        time.sleep(3)  # connected and past the first keyframe
        before = {w.camera: thread_cpu_seconds(f"ingest-{w.camera}-record") for w in workers}
        time.sleep(seconds)
        after = {w.camera: thread_cpu_seconds(f"ingest-{w.camera}-record") for w in workers}
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(10)
    return {name: round((after[name] - before[name]) / seconds * 100, 3) for name in before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="seconds of audio per measurement")
    parser.add_argument("--runs", type=int, default=3, help="the best of this many runs is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        alaw = camera_file(Path(folder), "pcm_alaw", 8000, args.seconds)
        aac = camera_file(Path(folder), "aac", 16000, args.seconds)
        runs = range(args.runs)
        g711 = [recording_cost(alaw, args.seconds) for _ in runs]
        copied = [recording_cost(aac, args.seconds) for _ in runs]
        passthrough = [live_cost(alaw, args.seconds, g711_packets) for _ in runs]
        opus = [live_cost(aac, args.seconds, AacToOpus().convert) for _ in runs]
        cameras = camera_costs(args.seconds, Path(folder))
    print(json.dumps({
        "benchmark": "audio",
        "input": f"{args.seconds} s of a tone under noise, changing every 200 ms; best of {args.runs}",
        "record_us_per_audio_second": {"g711_alaw_8khz_to_aac": round(min(cost for cost, _ in g711)),
                                       "aac_16khz_copied": round(min(cost for cost, _ in copied))},
        "record_call_cpu_us": {"g711_alaw_8khz_to_aac": {
            "median": round(float(np.median(g711[0][1]))), "p99": round(float(np.percentile(g711[0][1], 99))),
            "max": round(max(g711[0][1]))}},
        "live_us_per_audio_second_per_listener": {"g711_passed_through": round(min(passthrough)),
                                                  "aac_16khz_to_opus": round(min(opus))},
        "camera_thread_core_percent": cameras,
        "targets": {"record_us_per_audio_second": 2000},
    }))


if __name__ == "__main__":
    main()
