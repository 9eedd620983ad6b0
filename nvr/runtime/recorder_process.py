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

from ingest.frame_tap import FrameTap
from ingest.source import SourceOptions
from ingest.worker import Backoff, PacketSink, StreamWorker
from nvr.config import CameraConfig, Config
from nvr.logs import setup_logging
from nvr.runtime.detect_feed import DetectFeed
from nvr.runtime.live_tap import LiveTap
from nvr.runtime.messages import (
    CameraReport,
    Hello,
    Reports,
    SnapshotReply,
    SnapshotRequest,
    Watch,
    recorder_address,
    work_table_name,
)
from nvr.runtime.parent_watch import exit_with_parent
from nvr.runtime.station_outlet import StationOutlet
from nvr.runtime.work_pictures import WorkPictureTable, shared_folder
from storage.catalog_writer import CatalogWriter, OutageEnd, OutageStart
from storage.index import RecordingIndex
from storage.reconcile import reconcile
from storage.recorder import SegmentRecorder

log = logging.getLogger(__name__)
REPORT_SECONDS = 0.5


def now_ms() -> int:
    return round(time.time() * 1000)


class CameraRecorder:
    """One camera's streams and sinks inside a recorder process."""

    def __init__(self, camera: CameraConfig, config: Config, writer: CatalogWriter, outlet: StationOutlet,
                 feed: DetectFeed | None) -> None:
        self.name = camera.name
        self.feed = feed
        self.recorder = SegmentRecorder(camera.name, config.segments_dir, config.storage.segment_seconds, writer.put)
        self.taps: dict[str, LiveTap] = {}
        self.workers: dict[str, StreamWorker] = {}
        ingest = config.ingest
        options = SourceOptions(connect_timeout=ingest.connect_timeout_seconds,
                                read_timeout=ingest.read_timeout_seconds, demo_dir=config.data_dir / "demo",
                                clock_tolerance=ingest.clock_tolerance_seconds)
        for role, url in camera.stream_urls.items():
            self.taps[role] = LiveTap(camera.name, role, outlet)
            sinks: list[PacketSink] = [self.taps[role]]
            if role == camera.detect_role and feed is not None:
                sinks.append(FrameTap(feed, max_fps=camera.detect.max_fps, keyframes_only=camera.detect.keyframes_only))
            if role == "record":  # last: the recorder rewrites the packets' timestamps when it muxes
                sinks.append(self.recorder)

            def on_state(state: str, reason: str | None, name: str = camera.name) -> None:
                writer.put(OutageStart(name, now_ms(), reason or "offline") if state == "offline"
                           else OutageEnd(name, now_ms()))
                outlet.send(Reports([self.report()]))  # the station shows the change now, not at the next report

            self.workers[role] = StreamWorker(
                camera.name, role, url, options, sinks=sinks, stall_seconds=ingest.stall_seconds,
                backoff=Backoff(ingest.reconnect_min_seconds, ingest.reconnect_max_seconds),
                on_state=on_state if role == "record" else None)

    def report(self) -> CameraReport:
        detect = self.workers.get("detect")
        return CameraReport(self.name, self.workers["record"].status.snapshot(),
                            detect.status.snapshot() if detect else None, self.recorder.last_error,
                            self.recorder.in_progress())


class RecorderProcess:
    def __init__(self, config: Config, shard: int, cameras: list[str], authkey: bytes) -> None:
        self.config = config
        self.shard = shard
        self.names = cameras
        self._authkey = authkey
        self._stop = threading.Event()

    def run(self) -> None:
        config = self.config
        index = RecordingIndex(config.database_url)
        reconcile(index, config.segments_dir, cameras=set(self.names))  # what a killed predecessor left open
        writer = CatalogWriter(index)
        writer.start()
        work_size = config.detection.bank_settings().work_size
        table_path = shared_folder() / work_table_name(config.data_dir, self.shard)
        table = WorkPictureTable(table_path, len(self.names), work_size, create=True)
        outlet = StationOutlet()
        cameras: dict[str, CameraRecorder] = {}
        for slot, name in enumerate(self.names):
            settings = config.camera(name)
            assert settings is not None
            feed = DetectFeed(table, slot, work_size) if settings.detect.enabled else None
            cameras[name] = CameraRecorder(settings, config, writer, outlet, feed)
        listener = Listener(recorder_address(config.data_dir, self.shard), "AF_UNIX", authkey=self._authkey)
        hello = Hello(self.shard, os.getpid(), {n: i for i, n in enumerate(self.names)}, str(table_path), work_size)
        threading.Thread(target=self._accept, args=(listener, outlet, hello, cameras), name="station-accept",
                         daemon=True).start()
        for recorder in cameras.values():
            for worker in recorder.workers.values():
                worker.start()
        log.info("recorder %d (pid %d): %d cameras", self.shard, os.getpid(), len(cameras))
        try:
            while not self._stop.wait(REPORT_SECONDS):
                outlet.send(Reports([recorder.report() for recorder in cameras.values()]))
        finally:
            workers = [w for recorder in cameras.values() for w in recorder.workers.values()]
            for worker in workers:
                worker.stop()
            for worker in workers:
                worker.join(timeout=config.ingest.read_timeout_seconds * 2 + 2)
            writer.stop()
            listener.close()
            table.close()
            table_path.unlink(missing_ok=True)
            index.close()
            log.info("recorder %d stopped; its open segments were closed and indexed", self.shard)

    def stop(self) -> None:
        self._stop.set()

    def _accept(self, listener: Listener, outlet: StationOutlet, hello: Hello,
                cameras: dict[str, CameraRecorder]) -> None:
        while not self._stop.is_set():
            try:
                connection = listener.accept()
            except (OSError, EOFError) as exc:  # a peer without the key, or the listener closed
                if self._stop.is_set():
                    return
                log.warning("recorder %d: refused a connection: %s", self.shard, type(exc).__name__)
                continue
            for camera in cameras.values():
                for tap in camera.taps.values():
                    tap.watch(False)
            outlet.attach(connection)
            outlet.send(hello)
            threading.Thread(target=self._serve, args=(connection, outlet, cameras), name="station-commands",
                             daemon=True).start()

    def _serve(self, connection: Connection, outlet: StationOutlet, cameras: dict[str, CameraRecorder]) -> None:
        """Commands from the station: watch a stream, take a snapshot."""
        while True:
            try:
                message = connection.recv()
            except (OSError, EOFError):
                return
            match message:
                case Watch(camera, role, on) if camera in cameras and role in cameras[camera].taps:
                    cameras[camera].taps[role].watch(on)
                case SnapshotRequest(request, camera):
                    feed = cameras[camera].feed if camera in cameras else None
                    outlet.send(SnapshotReply(request, feed.snapshot() if feed else None))


def recorder_main(config: Config, shard: int, cameras: list[str], authkey: bytes, log_level: str) -> None:
    """Entry point of a recorder process (spawned by the supervisor)."""
    exit_with_parent()
    os.setpgrp()  # a terminal's Ctrl-C goes to the supervisor alone, which stops the processes in order
    setup_logging(log_level)
    process = RecorderProcess(config, shard, cameras, authkey)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: process.stop())
    process.run()

