"""The station process's view of the post: the catalog, detection, retention, and the recorder processes
that read and record the cameras (see nvr/runtime)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ingest.live_hub import LiveHub
from ingest.status import StatusSnapshot
from nvr.camera_alerts import AlertRules, AlertWatch, CameraState, camera_state
from nvr.cameras import camera_settings
from nvr.config import CameraConfig, Config
from nvr.event_bus import EventBus
from nvr.event_clips import CLIP_POST_ROLL_MS, MAX_CLIP_MS
from nvr.event_waiting import WAITING_FILE
from nvr.event_writer import EventWriter
from nvr.evidence.export import CameraInfo, ExportSource, Progress, build_export, wait_for_recording
from nvr.evidence.jobs import ExportJob, ExportJobs
from nvr.evidence.signing import StationKey
from nvr.integrations.dispatch import Integrations
from nvr.live_detection import LiveDetection
from nvr.login_limiter import LoginLimiter
from nvr.motion_writer import MotionGridWriter
from nvr.runtime.camera_sync import CameraSync
from nvr.runtime.detector_messages import PictureTable
from nvr.runtime.messages import CameraReport
from nvr.runtime.process_pool import ProcessPool
from nvr.runtime.recorder_link import RecorderLink
from nvr.runtime.recorders import RECORDER_MODULES, add_recorders, recorder_name
from nvr.runtime.shards import recorder_count
from nvr.runtime.startup import prepare_catalog
from nvr.station_identity import station_id
from storage.accounts import AccountStore
from storage.audit import AuditLog
from storage.bookmarks import BookmarkStore
from storage.camera_store import CameraStore
from storage.cases import Case, CaseStore
from storage.clock import now_ms
from storage.clock_steps import ClockSteps
from storage.clock_watch import ClockWatch
from storage.events import Event, EventStore
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases
from storage.motion_grids import MotionGridStore
from storage.reserve import RESERVE_FILE, SpaceReserve
from storage.retention import Retention, RetentionPolicy
from storage.space_watch import SpaceWatch
from storage.start_room import catalog_locks, make_room_to_start
from storage.thumbnails import Thumbnails

log = logging.getLogger(__name__)
DAY_MS = 86_400_000
RECORDER_LOST = "its recorder process ended unexpectedly and was restarted"
REPORT_SILENT_SECONDS = 15.0  # a recorder reports every second: this long without one, its cameras are not known
RECORDER_STARTING = StatusSnapshot("connecting", 0.0, "its recorder process is starting", 0.0, 0.0, None, None, None)


class Station:
    """`authkey` is the recorders' key when a supervisor runs them (`nvr run`); without it the station
    starts and stops recorder processes of its own (tests, benchmarks)."""

    def __init__(self, config: Config, *, authkey: bytes | None = None) -> None:
        self.config = config
        self.reserve = SpaceReserve(config.data_dir / RESERVE_FILE, config.storage.reserve_bytes)
        if authkey is None:  # under `nvr run` the supervisor made room before it started this process
            make_room_to_start(self.reserve, config.segments_dir,  # opening the index writes
                               catalog_locks(config.database_url, station_id(config)))
        identity = station_id(config)
        self.index = RecordingIndex(config.database_url, identity)
        self.leases = SegmentLeases()
        self.events = EventStore(self.index)
        self.motion_grids = MotionGridStore(self.index)
        self.event_bus = EventBus()
        self.snapshots_dir = config.data_dir / "snapshots"
        self.accounts = AccountStore(self.index)
        self.audit = AuditLog(self.index)
        self.login_limiter = LoginLimiter()
        self.segments_dir = config.segments_dir
        self.cases = CaseStore(self.index)
        self.bookmarks = BookmarkStore(self.index)
        self.key = StationKey.load_or_create(config.data_dir)  # made at the first start
        self.exports: ExportJobs[Case] = ExportJobs(config.data_dir / "exports", self._build_export,
                                                    self._export_failed, self._wait_for_recording)
        self.thumbnails = Thumbnails(self.segments_dir, self.leases)
        recorders = recorder_count(config)
        key = authkey or secrets.token_bytes(32)
        self._own: ProcessPool | None = None
        if authkey is None:
            self._own = ProcessPool(preload=RECORDER_MODULES)
            add_recorders(self._own, config, recorders, key)
        self.hubs: dict[tuple[str, str], LiveHub] = {}
        self.links = [RecorderLink(config.data_dir, shard, key, self.hubs, self._recorder_lost)
                      for shard in range(recorders)]
        self.camera_store = CameraStore(self.index)
        self.integrations = Integrations(config, identity, self)
        writer = EventWriter(self.events, self._event_changed, self.snapshots_dir, self._snapshot,
                             config.data_dir / WAITING_FILE)
        self.event_counts = writer.counts
        self.detection = LiveDetection(config.data_dir, config.detection.bank_settings(), config.detection.policy(),
                                       self._picture_tables, writer, MotionGridWriter(self.motion_grids),
                                       nicer=config.runtime.detector_nice - config.runtime.station_nice)
        self._cameras = CameraSync(self.camera_store, self.links, self.detection, self.hubs, self._watch)
        self.tick_seconds = self.detection.tick_seconds
        self.detection_frames = self.detection.analysed
        self.detection_seen = self.detection.observed
        rules = AlertRules(config.alerts.limits(), config.detection.policy())
        self._alerts = AlertWatch(rules, self._camera_states, writer.put)
        policy = RetentionPolicy(round(config.storage.retain_days * DAY_MS), config.storage.max_bytes,
                                 config.storage.min_free_bytes, round(config.storage.events_days * DAY_MS))
        self.retention = Retention(self.index, self.segments_dir, policy, self.leases, events=self.events,
                                   snapshots_dir=self.snapshots_dir, reserve=self.reserve, grids=self.motion_grids,
                                   clock=ClockWatch(self.index))
        self.cases.locks_changed = self.retention.forget_noted_files
        self._space_watch = SpaceWatch(self.retention, config.storage.retention_check_seconds, now_ms)

    @property
    def storage_shortage(self) -> str | None:
        """Why free space stays below storage.min_free_bytes even after retention (None: it does not)."""
        return self.retention.shortage

    @property
    def clock_steps(self) -> ClockSteps:
        """The forward steps of the station's clock that footage kept was stamped before (storage/clock_steps.py)."""
        return self.retention.clock_steps

    def start(self) -> None:
        if self._own is not None:
            prepare_catalog(self.config, self.index, self.accounts)
            self._own.start()
        self.events.close_open(now_ms())  # detection runs here: what it left open ended with its last run
        self._cameras.start()
        for link in self.links:
            link.start()
        self.integrations.start()
        self.detection.start()
        self._alerts.start()
        self._space_watch.start()

    def stop(self) -> None:
        self._cameras.stop()
        self._alerts.stop()  # before detection, whose stop ends the event writer
        self.detection.stop()
        self.integrations.stop()  # after detection: the events it closed at its stop are sent too
        for link in self.links:
            link.stop()
        if self._own is not None:
            self._own.stop()
        self._space_watch.stop()
        self.exports.stop()
        self.index.close()

    def wait_ready(self, timeout: float) -> bool:
        """Every recorder process is connected."""
        deadline = time.monotonic() + timeout
        return all(link.wait_connected(max(0.0, deadline - time.monotonic())) for link in self.links)

    def recorder_pid(self, camera: str) -> int | None:
        """The process that reads `camera`, when this station runs its own recorders."""
        recorder = self._cameras.recorder_of.get(camera)
        return self._own.pid(recorder_name(recorder)) if self._own is not None and recorder is not None else None

    # ------------------------------------------------------------------ cameras

    def camera(self, name: str) -> CameraConfig | None:
        """A camera of this station (enabled or not; removed ones are gone)."""
        return self._cameras.cameras.get(name)

    def camera_list(self) -> list[CameraConfig]:
        return list(self._cameras.cameras.values())

    def put_camera(self, camera: CameraConfig) -> None:
        """Add or change a camera at run time; from now on the catalog manages it."""
        self.camera_store.put(camera.name, camera_settings(camera), "catalog", now_ms())
        self._cameras.sync()

    def remove_camera(self, name: str) -> bool:
        """Stop recording `name` (its footage stays until retention); False if there is no such camera."""
        removed = self.camera_store.remove(name, now_ms())
        self._cameras.sync()
        return removed

    # ------------------------------------------------------------------ what the API reads

    def is_running(self, camera: str) -> bool:
        return camera in self._cameras.recorder_of

    def record_status(self, camera: str) -> StatusSnapshot | None:
        """The status of the camera's main stream; None when it is not recorded (disabled)."""
        if not self.is_running(camera):
            return None
        report = self.report(camera)
        return report.record if report is not None else RECORDER_STARTING

    def report(self, camera: str) -> CameraReport | None:
        """The camera's latest status from its recorder (None while the recorder is (re)starting); offline when the
        recorder has not reported it for REPORT_SILENT_SECONDS: a recorder that hangs (frozen, deadlocked) is not
        restarted, and its cameras stayed online at their last frame rate (an audit)."""
        link = self._link_of(camera)
        report = link.reports.get(camera) if link is not None else None
        if link is None or report is None:
            return None
        silent = time.monotonic() - link.heard.get(camera, 0.0)
        if silent < REPORT_SILENT_SECONDS:
            return report
        return replace(report, record=replace(report.record, state="offline", fps=0.0, bitrate_kbps=0.0,
                                              last_error=f"its recorder process has not reported for {silent:.0f} s"))

    def hub(self, camera: str, role: str) -> LiveHub | None:
        return self.hubs.get((camera, role))

    def segments(self, camera: str, start_ms: int, end_ms: int) -> list[Segment]:
        """Indexed segments plus those not indexed yet (the one being written included), overlapping
        [start_ms, end_ms)."""
        unindexed = self._unindexed(camera, start_ms, end_ms)  # first: one indexed meanwhile is then in both
        found = self.index.segments(camera, start_ms, end_ms)
        paths = {segment.path for segment in found}
        return found + [segment for segment in unindexed if segment.path not in paths]

    def recorded_spans(self, camera: str, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """(start, end) of what was recorded in the window, the segments not indexed yet included."""
        unindexed = self._unindexed(camera, start_ms, end_ms)  # first, as in `segments`
        return self.index.spans(camera, start_ms, end_ms) + [(s.start_ms, s.end_ms) for s in unindexed]

    def _being_written(self, camera: str, until_ms: int) -> bool:
        """Is footage of the camera from before `until_ms` still being written or indexed (a segment the catalog
        does not hold yet starts before it)?"""
        return bool(self._unindexed(camera, 0, until_ms))

    def _unindexed(self, camera: str, start_ms: int, end_ms: int) -> list[Segment]:
        """What the camera's recorder has written and the catalog does not have yet: between two segments,
        the one closing is in neither the catalog nor `in_progress`. A segment the catalog has, under any camera,
        is left out: a report can lag the catalog, and a removed camera's last report can arrive after its name
        was taken again (found in review: the new camera showed the old one's segment for a second)."""
        report = self.report(camera)
        if report is None:
            return []
        shown = [*report.unindexed, report.in_progress] if report.in_progress else list(report.unindexed)
        found = [segment for segment in shown if segment.start_ms < end_ms and segment.end_ms > start_ms]
        indexed = self.index.indexed([segment.path for segment in found]) if found else set()
        return [segment for segment in found if segment.path not in indexed]

    # ------------------------------------------------------------------ wiring

    def _link_of(self, camera: str) -> RecorderLink | None:
        recorder = self._cameras.recorder_of.get(camera)
        return self.links[recorder] if recorder is not None else None

    def _watch(self, camera: str, role: str, on: bool, sound: bool) -> None:
        if (link := self._link_of(camera)) is not None:
            link.watch(camera, role, on, sound)

    def _recorder_lost(self, cameras: list[str]) -> None:
        """An outage for each camera of a recorder that died; its successor closes them once each camera
        is back online, so the gap in `recordings` says why."""
        for camera in cameras:
            try:
                self.index.open_outage(camera, now_ms(), RECORDER_LOST)
            except SQLAlchemyError as exc:  # the catalog is away: the gap shows, without its reason
                log.warning("%s: could not record the outage (%s)", camera, type(exc).__name__)

    def _wait_for_recording(self, case: Case, cancelled: Callable[[], bool]) -> None:
        wait_for_recording(case.items, self._being_written, round(self.config.storage.segment_seconds * 1000),
                           cancelled)

    def _build_export(self, case: Case, by: str, out: Path, progress: Progress, cancelled: Callable[[], bool]) -> None:
        source = ExportSource(self.index.station, self.config.station.title, self.config.zone, self.key,
                              self.segments_dir, self.index.segments, self._camera_info, self.leases,
                              self.clock_steps)
        build_export(source, case, by, out, progress=progress, cancelled=cancelled)

    def _camera_info(self, name: str, at_ms: int) -> CameraInfo:
        """Where the camera stood at `at_ms` (its title and location then; design/evidence.md)."""
        place = self.camera_store.place(name, at_ms)
        if place is not None:
            return CameraInfo(*place)
        camera = self.camera(name)
        return CameraInfo(camera.title, camera.location) if camera else CameraInfo("", "")

    def _export_failed(self, job: ExportJob) -> None:
        self.audit.record("case_export_failed", username=job.by, detail=f"case {job.case_id}: {job.error}")
    def _camera_states(self) -> dict[str, CameraState | None]:
        observed = self.detection.observed
        return {name: camera_state(self.report(name), observed.get(name)) for name in list(self._cameras.recorder_of)}

    def _picture_tables(self) -> tuple[PictureTable, ...]:
        return tuple(table for link in self.links if (table := link.picture_table()) is not None)

    def _event_changed(self, event: Event) -> None:
        """A stored event change, for the WebSocket listeners, MQTT and webhooks (none of them waits), and, once it
        has ended, for the case items made of it while it went on."""
        self.event_bus.publish(event)
        self.integrations.event_changed(event)
        if event.end_ms is not None:
            try:
                self.cases.follow_event(event.id, event.end_ms + CLIP_POST_ROLL_MS, MAX_CLIP_MS)
            except SQLAlchemyError as exc:  # the event is stored: the item keeps what it had
                log.warning("event %d: its case items could not follow its end (%s)", event.id, type(exc).__name__)

    def _snapshot(self, camera: str) -> bytes | None:
        link = self._link_of(camera)
        return link.snapshot(camera) if link is not None else None
