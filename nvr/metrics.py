"""What `GET /metrics` shows, read from the station when Prometheus asks: the recorders' latest reports, the
event counts, the disk, the catalog's oldest footage and detection's tick times. Nothing on the recording
or detection path updates a metric for it (the tick histogram, one observation a tick, is the exception).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from detect.observation import Observation
from nvr.config import CameraConfig
from nvr.event_counts import EventCounts
from nvr.runtime.messages import CameraReport
from storage.clock_steps import ClockSteps
from storage.disk_space import disk_usage
from storage.index import RecordingIndex
from storage.usage import oldest_by_real_time

DAY_SECONDS = 86_400


class Observed(Protocol):
    """What the collector reads of the station (nvr.station.Station)."""

    index: RecordingIndex
    segments_dir: Path
    event_counts: EventCounts
    tick_seconds: Histogram  # detection's ticks, as the detector process timed them

    @property
    def detection_frames(self) -> Mapping[str, int]: ...  # pictures detection took, by camera

    @property
    def detection_seen(self) -> Mapping[str, Observation]: ...  # what detection last saw, by camera

    @property
    def clock_steps(self) -> ClockSteps: ...  # the forward steps of the station's clock that footage predates

    @property
    def storage_shortage(self) -> str | None: ...  # why free space stays below the floor (None: it does not)

    def camera_list(self) -> list[CameraConfig]: ...

    def is_running(self, camera: str) -> bool: ...

    def report(self, camera: str) -> CameraReport | None: ...


class StationCollector(Collector):
    def __init__(self, station: Observed) -> None:
        self._station = station

    def collect(self) -> Iterator[Metric]:
        """Called by the scrape, in a worker thread (the catalog is read)."""
        station = self._station
        now = time.time()
        names = [camera.name for camera in station.camera_list()]
        running = {name for name in names if station.is_running(name)}
        reports = {name: report for name in running if (report := station.report(name)) is not None}
        enabled = _gauge("nvr_camera_enabled", "1 when the camera is enabled (recorded)")
        up = _gauge("nvr_camera_up", "1 while the camera's record stream flows")
        failing = _gauge("nvr_camera_recording_failed", "1 while the camera's recordings cannot be written (a full "
                                                        "or read-only disk): its stream may still flow")
        for name in names:
            enabled.add_metric([name], float(name in running))
            report = reports.get(name)
            up.add_metric([name], float(report is not None and report.record.state == "online"))
            failing.add_metric([name], float(report is not None and report.recording_error is not None))
        yield enabled
        yield up
        yield failing
        yield from self._reported(reports, now)
        yield self._events()
        analysed = _counter("nvr_camera_detection_frames", "Pictures detection analysed since the station process "
                                                           "started")
        for name, frames in list(station.detection_frames.items()):
            analysed.add_metric([name], frames)
        yield analysed
        yield from self._weather(names)
        yield from self._storage(names, now)
        yield from station.tick_seconds.collect()

    def _reported(self, reports: dict[str, CameraReport], now: float) -> Iterator[Metric]:
        """What each camera's recorder process said in its latest report (counters: since it started)."""
        fps = _gauge("nvr_camera_fps", "Frames a second of the record stream (last 5 s)")
        bitrate = _gauge("nvr_camera_bitrate_bits_per_second", "Bitrate of the record stream (last 5 s)")
        age = _gauge("nvr_camera_last_frame_age_seconds", "Seconds since the camera's last frame")
        recorded = _counter("nvr_camera_recorded_bytes", "Bytes of finished segments written")
        segments = _counter("nvr_camera_segments_written", "Segments finished and written")
        reconnects = _counter("nvr_camera_reconnects", "Times the record stream was lost after it had been flowing")
        for name, report in reports.items():
            record = report.record
            fps.add_metric([name], record.fps)
            bitrate.add_metric([name], record.bitrate_kbps * 1000)
            if record.last_frame is not None:
                age.add_metric([name], max(0.0, now - record.last_frame))
            recorded.add_metric([name], report.bytes_written)
            segments.add_metric([name], report.segments_written)
            reconnects.add_metric([name], record.reconnects)
        yield from (fps, bitrate, age, recorded, segments, reconnects)

    def _weather(self, names: list[str]) -> Iterator[Metric]:
        """What detection works in, by camera (of `names`), as it last saw it: rain or snow, a shaking picture."""
        raining = _gauge("nvr_camera_detection_raining", "1 while rain or snow is taken out of the camera's pictures")
        shaking = _gauge("nvr_camera_detection_shaking", "1 while the camera's picture shakes (and is steadied)")
        seen_by_camera = dict(self._station.detection_seen)
        for name in names:
            if (seen := seen_by_camera.get(name)) is None:
                continue
            raining.add_metric([name], float(seen.raining))
            shaking.add_metric([name], float(seen.shaking))
        yield from (raining, shaking)

    def _events(self) -> Metric:
        events = CounterMetricFamily("nvr_camera_events", "Events started since the station process started",
                                     labels=["camera", "type"])
        for (camera, type_), count in sorted(self._station.event_counts.snapshot().items()):
            events.add_metric([camera, type_], count)
        return events

    def _storage(self, names: list[str], now: float) -> Iterator[Metric]:
        disk = disk_usage(self._station.segments_dir)
        yield GaugeMetricFamily("nvr_disk_free_bytes", "Free bytes on the segments' disk", value=disk.free)
        yield GaugeMetricFamily("nvr_disk_total_bytes", "Size of the segments' disk", value=disk.total)
        yield GaugeMetricFamily("nvr_storage_shortage", "1 while free space stays below storage.min_free_bytes even "
                                "after retention (GET /api/storage says why)",
                                value=float(self._station.storage_shortage is not None))
        kept = _gauge("nvr_camera_footage_days", "Days from the camera's oldest footage kept to now")
        oldest = oldest_by_real_time(self._station.index, self._station.clock_steps)
        for name in names:
            if name in oldest:
                kept.add_metric([name], max(0.0, now - oldest[name][1] / 1000) / DAY_SECONDS)
        yield kept


def _gauge(name: str, text: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, labels=["camera"])


def _counter(name: str, text: str) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, labels=["camera"])


def metrics_registry(station: Observed, *others: Collector) -> CollectorRegistry:
    """A registry of its own per app (never the process-wide default), so stations in one process do not mix."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in (StationCollector(station), *others):
        registry.register(collector)
    return registry
