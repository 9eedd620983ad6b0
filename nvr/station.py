"""The running station: index, one ingest worker per camera stream, recorders, retention."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from ingest.live_hub import LiveHub
from ingest.source import SourceOptions
from ingest.worker import Backoff, PacketSink, StreamWorker
from nvr.config import CameraConfig, Config
from nvr.detection import DetectionPipeline
from nvr.event_bus import EventBus
from nvr.first_admin import ensure_first_admin
from nvr.live_detection import LiveDetection
from nvr.login_limiter import FailureLimiter
from nvr.station_identity import station_id
from storage.accounts import AccountStore
from storage.audit import AuditLog
from storage.events import EventStore
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.reconcile import reconcile
from storage.recorder import SegmentRecorder
from storage.retention import Retention, RetentionPolicy

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


def now_ms() -> int:
    return round(time.time() * 1000)


@dataclass
class CameraRuntime:
    config: CameraConfig
    recorder: SegmentRecorder
    workers: dict[str, StreamWorker]  # by role: "record", and "detect" when it is a separate stream
    hubs: dict[str, LiveHub]  # live picture of each stream, by the same roles


class Station:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.index = RecordingIndex(config.database_url, station_id(config))
        self.leases = SegmentLeases()
        self.events = EventStore(self.index)
        self.event_bus = EventBus()
        self.snapshots_dir = config.data_dir / "snapshots"
        detection = DetectionPipeline(config.detection.bank_settings(), config.detection.policy())
        self.detection = LiveDetection(detection, self.events, self.event_bus, self.snapshots_dir)
        self.accounts = AccountStore(self.index)
        self.audit = AuditLog(self.index)
        self.login_limiter = FailureLimiter()
        self.segments_dir = config.segments_dir
        self.cameras: dict[str, CameraRuntime] = {}
        policy = RetentionPolicy(round(config.storage.retain_days * DAY_MS), config.storage.max_bytes,
                                 config.storage.min_free_bytes, round(config.storage.events_days * DAY_MS))
        self.retention = Retention(self.index, self.segments_dir, policy, self.leases, events=self.events,
                                   snapshots_dir=self.snapshots_dir)
        self._stop = threading.Event()
        self._retention_thread = threading.Thread(target=self._retention_loop, name="retention", daemon=True)

    def start(self) -> None:
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        ensure_first_admin(self.accounts, self.config.data_dir, os.environ)
        reconcile(self.index, self.segments_dir)
        self.index.close_outages(now_ms())  # whatever was open ended with the previous run
        self.events.close_open(now_ms())
        self.detection.start()
        for camera in self.config.cameras:
            if camera.enabled:
                self.cameras[camera.name] = self._start_camera(camera)
        self._retention_thread.start()

    def stop(self) -> None:
        self._stop.set()
        workers = [w for runtime in self.cameras.values() for w in runtime.workers.values()]
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(timeout=self.config.ingest.read_timeout_seconds * 2 + 2)
        self.detection.stop()
        self._retention_thread.join(timeout=5)
        self.index.close()

    def _start_camera(self, camera: CameraConfig) -> CameraRuntime:
        self.index.camera_id(camera.name)
        recorder = SegmentRecorder(camera.name, self.segments_dir, self.config.storage.segment_seconds,
                                   self._index_segment)
        workers: dict[str, StreamWorker] = {}
        hubs: dict[str, LiveHub] = {}
        for role, url in camera.stream_urls.items():
            hubs[role] = LiveHub()
            sinks: list[PacketSink] = [hubs[role]]
            if role == camera.detect_role and camera.detect.enabled:
                sinks.append(self.detection.pipeline.add_camera(camera.name, camera.detect.settings()))
            if role == "record":  # last: the recorder rewrites the packets' timestamps when it muxes
                sinks.append(recorder)
            on_state = (lambda state, reason, name=camera.name: self._record_state(name, state, reason)) \
                if role == "record" else None
            workers[role] = StreamWorker(camera.name, role, url, self._source_options(), sinks=sinks,
                                         stall_seconds=self.config.ingest.stall_seconds, backoff=self._backoff(),
                                         on_state=on_state)
            workers[role].start()
        return CameraRuntime(camera, recorder, workers, hubs)

    def _source_options(self) -> SourceOptions:
        ingest = self.config.ingest
        return SourceOptions(connect_timeout=ingest.connect_timeout_seconds,
                             read_timeout=ingest.read_timeout_seconds, demo_dir=self.config.data_dir / "demo")

    def _backoff(self) -> Backoff:
        return Backoff(self.config.ingest.reconnect_min_seconds, self.config.ingest.reconnect_max_seconds)

    def _index_segment(self, segment: Segment) -> None:
        self.index.add_segment(segment)

    def _record_state(self, camera: str, state: str, reason: str | None) -> None:
        if state == "offline":
            self.index.open_outage(camera, now_ms(), reason or "offline")
        else:
            self.index.close_outages(now_ms(), camera)

    def _retention_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.retention.enforce(now_ms())
            except Exception:
                log.exception("retention pass failed; retrying")
            self._stop.wait(self.config.storage.retention_check_seconds)

    def segments(self, camera: str, start_ms: int, end_ms: int) -> list[Segment]:
        """Indexed segments plus the one being written, overlapping [start_ms, end_ms)."""
        found = self.index.segments(camera, start_ms, end_ms)
        live = self._in_progress(camera, start_ms, end_ms)
        if live and all(s.path != live.path for s in found):
            found.append(live)
        return found

    def recorded_spans(self, camera: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """(start, end) of what was recorded in the window, the segment being written included."""
        spans = self.index.spans(camera, start_ms, end_ms)
        live = self._in_progress(camera, start_ms, end_ms)
        return [*spans, (live.start_ms, live.end_ms)] if live else spans

    def _in_progress(self, camera: str, start_ms: int, end_ms: int) -> Segment | None:
        runtime = self.cameras.get(camera)
        live = runtime.recorder.in_progress() if runtime else None
        return live if live and live.start_ms < end_ms and live.end_ms > start_ms else None
