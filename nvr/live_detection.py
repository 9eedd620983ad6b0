"""Live detection: a thread takes the work pictures the recorder processes have put in shared memory and
ticks the pipeline; what it finds goes to the event writer (index rows, snapshots, the event bus that
feeds the WebSocket and the station screen), and where it saw motion to the motion grid writer."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from prometheus_client import Histogram

from nvr.detection import DetectionPipeline
from nvr.event_writer import EventWriter
from nvr.motion_writer import MotionGridWriter
from nvr.runtime.work_pictures import WorkPicture

log = logging.getLogger(__name__)
# at most one tick this often, so that the frames of many cameras are processed together: a tick has a
# fixed cost of about 0.5 ms whatever it holds, and 50 ms is still less than a frame interval at 15 fps
# (a camera's newer frame would replace an older one still waiting)
TICK_SECONDS = 0.05
REST_SECONDS = 0.01  # ... and at least this long between two ticks: the API shares the interpreter
SILENCE_SECONDS = 1.0  # with no frames coming, look for cameras that went silent this often
Pictures = Callable[[], dict[str, WorkPicture]]  # the pictures written since the last call, by camera
TICK_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


class LiveDetection:
    def __init__(self, pipeline: DetectionPipeline, pictures: Pictures, writer: EventWriter,
                 grids: MotionGridWriter) -> None:
        self.pipeline = pipeline
        self._pictures = pictures
        self._writer = writer
        self._grids = grids
        # observed once a tick (about 1 µs); read by the metrics (nvr/metrics.py)
        self.tick_seconds = Histogram("nvr_detection_tick_seconds", "Time one detection tick took (all cameras)",
                                      buckets=TICK_BUCKETS, registry=None)
        self.analysed: Counter[str] = Counter()  # pictures taken per camera (fewer than it sends when short of CPU)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="detection", daemon=True)

    def start(self) -> None:
        self._writer.start()
        self._grids.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._writer.put(self.pipeline.close(time.time()))
        self._grids.put(self.pipeline.motion_seconds())
        self._writer.stop()
        self._grids.stop()

    def _run(self) -> None:
        """Tick when pictures have come, or every SILENCE_SECONDS to notice cameras that went silent (not
        more: 1.4 % of a core was spent ticking an empty bank)."""
        last_tick = 0.0
        rest = TICK_SECONDS
        while not self._stop.wait(rest):
            began = time.monotonic()
            try:
                arrived = self._pictures()
                for camera, picture in arrived.items():
                    chroma = (picture.chroma[0], picture.chroma[1]) if picture.chroma is not None else None
                    self.pipeline.submit(camera, picture.luma, chroma, picture.t)
                    self.analysed[camera] += 1
                if not arrived and time.monotonic() - last_tick < SILENCE_SECONDS:
                    continue
                last_tick = time.monotonic()
                self._writer.put(self.pipeline.tick(time.time()))
                self._grids.put(self.pipeline.motion_seconds())
                self.tick_seconds.observe(time.monotonic() - last_tick)
            except Exception:  # a bug must not end detection for every camera
                log.exception("detection tick failed; going on")
            finally:
                rest = rest_after(time.monotonic() - began)


def rest_after(busy: float) -> float:
    """How long to wait after a tick that took `busy` seconds (with the pictures' copy): ticks come every
    TICK_SECONDS while they take less, back to back (REST_SECONDS apart) when they take more. Waiting
    TICK_SECONDS after each tick instead made ticks of 20 ms (48 cameras) come every 70 ms, slower than the
    cameras' frames: detection skipped frames on an idle machine."""
    return max(REST_SECONDS, TICK_SECONDS - busy)
