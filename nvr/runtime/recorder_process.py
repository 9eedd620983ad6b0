"""A recorder process: reads a shard of the cameras, records them, and feeds the station process.

It owns everything that must keep camera pace: the stream threads, the segment files, the catalog rows
of its segments and outages (through its own writer thread), the live GOPs and the detection work
pictures. The station process (API, detection) talks to it over an authenticated socket; when the
station is away or busy, recording goes on and only what it would have been shown is dropped.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from multiprocessing.connection import Connection, Listener

from sqlalchemy.exc import SQLAlchemyError

from ingest.frame_tap import detection_tap
from ingest.source import SourceOptions
from ingest.worker import AudioSink, Backoff, PacketSink, StreamWorker
from nvr.cameras import recorder_cameras
from nvr.config import CameraConfig, Config
from nvr.logs import setup_logging
from nvr.runtime.camera_cache import cache_path, load_cameras, save_cameras
from nvr.runtime.detect_feed import DetectFeed
from nvr.runtime.live_tap import LiveTap
from nvr.runtime.messages import (
    CameraReport,
    Hello,
    Reload,
    Reports,
    Slots,
    SnapshotReply,
    SnapshotRequest,
    Watch,
    recorder_address,
    work_table_name,
)
from nvr.runtime.parent_watch import exit_with_parent
from nvr.runtime.station_outlet import StationOutlet
from nvr.runtime.stop_request import StopRequest
from nvr.runtime.work_pictures import WorkPictureTable, shared_folder
from nvr.station_identity import station_id
from storage.camera_store import CameraStore
from storage.catalog_journal import CatalogJournal, journal_path
from storage.catalog_rows import OutageEnd, OutageStart
from storage.catalog_writer import CatalogWriter
from storage.clock import now_ms
from storage.disk_room import DiskRoom
from storage.index import RecordingIndex
from storage.reconcile import reconcile
from storage.recorder import SegmentRecorder

log = logging.getLogger(__name__)
CHECK_STOP_SECONDS = 5.0  # a stop waits this long for the check of the files to see it
REPORT_SECONDS = 1.0  # every camera's status; a state change is sent at once
MAX_CAMERAS = 512  # work-picture slots of one recorder (a sparse file: unused slots cost no memory)


class CameraRecorder:
    """One camera's streams and sinks inside a recorder process."""

    def __init__(self, camera: CameraConfig, config: Config, writer: CatalogWriter, outlet: StationOutlet,
                 feed: DetectFeed | None, room: DiskRoom) -> None:
        self.name = camera.name
        self.settings = camera  # as it was started: only its `recording_part` is compared (RecorderProcess._apply)
        self.feed = feed
        self.recorder = SegmentRecorder(camera.name, config.segments_dir, config.storage.segment_seconds, writer.put,
                                        writer.indexed, room)
        self.taps: dict[str, LiveTap] = {}
        self.workers: dict[str, StreamWorker] = {}
        ingest = config.ingest
        options = SourceOptions(connect_timeout=ingest.connect_timeout_seconds,
                                read_timeout=ingest.read_timeout_seconds, demo_dir=config.demo_dir,
                                clock_tolerance=ingest.clock_tolerance_seconds, transport=camera.transport)
        for role, url in camera.stream_urls.items():
            self.taps[role] = LiveTap(camera.name, role, outlet)
            sinks: list[PacketSink] = [self.taps[role]]
            audio_sinks: list[AudioSink] = [self.taps[role]]
            if role == camera.detect_role and feed is not None:
                sinks.append(detection_tap(feed, camera.detect.settings()))
            if role == "record":  # last: the recorder rewrites the packets' timestamps when it muxes
                sinks.append(self.recorder)
                audio_sinks.append(self.recorder)

            def on_state(state: str, reason: str | None, name: str = camera.name) -> None:
                writer.put(OutageStart(name, now_ms(), reason or "offline") if state == "offline"
                           else OutageEnd(name, now_ms()))
                outlet.send(Reports([self.report()]))  # the station shows the change now, not at the next report

            self.workers[role] = StreamWorker(
                camera.name, role, url, options, sinks=sinks, audio_sinks=audio_sinks,
                stall_seconds=ingest.stall_seconds,
                backoff=Backoff(ingest.reconnect_min_seconds, ingest.reconnect_max_seconds),
                on_state=on_state if role == "record" else None)

    def report(self) -> CameraReport:
        detect = self.workers.get("detect")
        return CameraReport(self.name, self.workers["record"].status.snapshot(),
                            detect.status.snapshot() if detect else None, self.recorder.last_error,
                            self.recorder.in_progress(), self.recorder.unindexed(), self.recorder.segments_written,
                            self.recorder.bytes_written)


class RecorderProcess:
    """Reads the cameras the catalog gives this recorder, and reads that list again when the station
    sends `Reload` (a camera added, changed or removed at run time)."""

    def __init__(self, config: Config, shard: int, authkey: bytes) -> None:
        self.config = config
        self.shard = shard
        self._authkey = authkey
        self._stop = threading.Event()  # set once the main loop ends: the other threads' stop
        self._reload = threading.Event()
        self._running: dict[str, CameraRecorder] = {}  # replaced whole, never changed in place
        self._slots: dict[str, int] = {}
        # camera -> when its streams started here: its files are still to check (one started again meanwhile is
        # checked again)
        self._unreconciled: dict[str, int] = {}
        self._unreconciled_lock = threading.Lock()  # the report loop adds to it, the check's thread takes from it
        self._checking: threading.Thread | None = None  # the check of the files, while it runs
        self._cache = cache_path(config.data_dir, shard)
        self._room = DiskRoom(config.segments_dir, config.storage.reserve_bytes)  # shared by its cameras

    def run(self, asked: StopRequest) -> None:
        config = self.config
        # the supervisor migrated at start; a recorder started again while the catalog is away must not wait
        self._index = RecordingIndex(config.database_url, station_id(config), migrate=False)
        cameras = CameraStore(self._index)
        self._writer = CatalogWriter(self._index, CatalogJournal(journal_path(config.data_dir, self.shard),
                                                                 self._index.station))
        self._writer.start()
        self._work_size = config.detection.bank_settings().work_size
        table_path = shared_folder() / work_table_name(config.data_dir, self.shard)
        self._table = WorkPictureTable(table_path, MAX_CAMERAS, self._work_size, create=True)
        self._outlet = StationOutlet()
        self._apply(self._cameras(cameras))
        listener = Listener(recorder_address(config.data_dir, self.shard), "AF_UNIX", authkey=self._authkey)
        threading.Thread(target=self._accept, args=(listener, str(table_path)), name="station-accept",
                         daemon=True).start()
        log.info("recorder %d (pid %d): %d cameras", self.shard, os.getpid(), len(self._running))
        try:
            while not _stopped_after(REPORT_SECONDS, asked):
                if self._reload.is_set():
                    self._reload.clear()
                    self._apply(self._cameras(cameras))
                self._reconcile_aside()
                self._outlet.send(Reports([recorder.report() for recorder in self._running.values()]))
        finally:
            self._stop.set()
            if self._checking is not None:
                self._checking.join(CHECK_STOP_SECONDS)
            self._stop_cameras(list(self._running.values()))
            indexed = self._writer.stop()
            listener.close()
            self._table.close()
            table_path.unlink(missing_ok=True)
            self._index.close()
            log.info("recorder %d stopped; its open segments were closed and %s", self.shard,
                     "indexed" if indexed else "what the catalog did not take is journaled for the next start")


    def _cameras(self, store: CameraStore) -> list[CameraConfig]:
        """This recorder's cameras from the catalog; while it does not answer, those it read last."""
        try:
            wanted = recorder_cameras(store, self.shard)
        except SQLAlchemyError as exc:
            log.warning("recorder %d: the catalog does not answer (%s); recording the cameras it gave last",
                        self.shard, type(exc).__name__)
            return load_cameras(self._cache)
        save_cameras(self._cache, wanted)
        return wanted

    def _reconcile_aside(self) -> None:
        """Check the cameras started here against their files in a thread of its own: a month of a recorder's
        cameras takes some seconds (about 5 us a segment), and the reports stopped meanwhile."""
        with self._unreconciled_lock:
            if not self._unreconciled or (self._checking is not None and self._checking.is_alive()):
                return
        self._checking = threading.Thread(target=self._reconcile, name=f"reconcile-{self.shard}", daemon=True)
        self._checking.start()

    def _reconcile(self) -> None:
        """Index what a killed predecessor (or an earlier run) left of the cameras started here: files older
        than their new streams, once the rows queued before are written (the journal's rows, hashed as they
        were recorded, come first) and the catalog answers."""
        if not self._writer.flush(0):
            return
        with self._unreconciled_lock:
            started = dict(self._unreconciled)
        try:
            reconcile(self._index, self.config.segments_dir, cameras=set(started), cancelled=self._stop.is_set,
                      recording=self._opened_here)
        except SQLAlchemyError as exc:
            log.warning("recorder %d: reconciliation waits for the catalog (%s)", self.shard, type(exc).__name__)
            return
        if self._stop.is_set():
            return  # cut short: the next start checks them
        with self._unreconciled_lock:
            for camera, since in started.items():
                if self._unreconciled.get(camera) == since:
                    del self._unreconciled[camera]
                    if (running := self._running.get(camera)) is not None:
                        running.recorder.opened = None  # checked: what it opens from now on needs no noting

    def _opened_here(self, relpath: str) -> bool:
        """Whether a camera of this process opened the file in this run."""
        recorder = self._running.get(relpath.partition("/")[0])
        opened = recorder.recorder.opened if recorder is not None else None
        return opened is not None and relpath in opened

    def _apply(self, wanted: list[CameraConfig]) -> None:
        """Start the cameras that are new or changed, stop those that are gone or changed; the others are
        not touched (nor those where only what the recorder does not read changed: `CameraConfig.recording_part`)."""
        by_name = {camera.name: camera for camera in wanted}
        running = dict(self._running)
        leaving = [r for name, r in running.items()
                   if name not in by_name or by_name[name].recording_part() != r.settings.recording_part()]
        self._stop_cameras(leaving)
        for recorder in leaving:
            del running[recorder.name]
            del self._slots[recorder.name]
        free = sorted(set(range(MAX_CAMERAS)) - set(self._slots.values()))
        arriving = [camera for name, camera in by_name.items() if name not in running]
        started_ms = now_ms()  # files from now on are this run's; the older ones are reconciled
        for camera in arriving[:len(free)]:
            slot = free.pop(0)
            feed = DetectFeed(self._table, slot, self._work_size) if camera.detect.enabled else None
            running[camera.name] = CameraRecorder(camera, self.config, self._writer, self._outlet, feed, self._room)
            self._slots[camera.name] = slot
            with self._unreconciled_lock:
                self._unreconciled[camera.name] = started_ms
            for worker in running[camera.name].workers.values():
                worker.start()
        for camera in arriving[len(free):]:
            log.error("recorder %d: %s not started: a recorder reads at most %d cameras", self.shard,
                      camera.name, MAX_CAMERAS)
        self._running = running
        if leaving or arriving:
            log.info("recorder %d: %d cameras (%d started, %d stopped)", self.shard, len(running),
                     len(arriving), len(leaving))
        self._outlet.send(Slots(dict(self._slots)))

    def _stop_cameras(self, recorders: list[CameraRecorder]) -> None:
        workers = [w for recorder in recorders for w in recorder.workers.values()]
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.join(timeout=self.config.ingest.read_timeout_seconds * 2 + 2)

    def _accept(self, listener: Listener, table_path: str) -> None:
        while not self._stop.is_set():
            try:
                connection = listener.accept()
            except (OSError, EOFError) as exc:  # a peer without the key, or the listener closed
                if self._stop.is_set():
                    return
                log.warning("recorder %d: refused a connection: %s", self.shard, type(exc).__name__)
                continue
            for recorder in self._running.values():
                for tap in recorder.taps.values():
                    tap.watch(False, sound=False)
            self._outlet.attach(connection)
            self._outlet.send(Hello(self.shard, os.getpid(), dict(self._slots), table_path, MAX_CAMERAS,
                                    self._work_size))
            threading.Thread(target=self._serve, args=(connection,), name="station-commands", daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        """Commands from the station: watch a stream, take a snapshot, read the camera list again."""
        while True:
            try:
                message = connection.recv()
            except (OSError, EOFError):
                return
            try:
                self._command(message)
            except Exception:  # one camera's failure must not end the commands of every camera of the recorder
                log.exception("recorder %d: the command %s failed", self.shard, type(message).__name__)
                if isinstance(message, SnapshotRequest):
                    self._outlet.send(SnapshotReply(message.request, None))

    def _command(self, message: object) -> None:
        running = self._running
        match message:
            case Watch(camera, role, on, sound) if camera in running and role in running[camera].taps:
                running[camera].taps[role].watch(on, sound)
            case SnapshotRequest(request, camera):
                feed = running[camera].feed if camera in running else None
                self._outlet.send(SnapshotReply(request, feed.snapshot() if feed else None))
            case Reload():
                self._reload.set()


def recorder_main(config: Config, shard: int, authkey: bytes, log_level: str) -> None:
    """Entry point of a recorder process (started by the supervisor's process pool)."""
    exit_with_parent()
    os.setpgrp()  # a terminal's Ctrl-C goes to the supervisor alone, which stops the processes in order
    setup_logging(log_level)
    process = RecorderProcess(config, shard, authkey)
    process.run(StopRequest((signal.SIGTERM,)))


def _stopped_after(seconds: float, asked: StopRequest) -> bool:
    """Whether a stop was asked for, `seconds` from now (a signal does not cut the wait short: within a report)."""
    time.sleep(seconds)
    return asked.stop
