"""A camera whose link trickles (a byte a second) held FFmpeg inside one read: the worker neither reconnected nor
stopped (design/runtime.md). The link's sockets are now cut once no video came for the stall limit, and at once when
the worker is asked to stop (ingest/link_watch.py)."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from ingest.source import OpenedSource, SourceOptions, StallError, open_source
from ingest.worker import Backoff, StreamWorker
from tests.conftest import wait_for
from tests.support.rtsp import RtspServer
from tests.support.trickle import TricklingLink
from tests.support.workers import running


def test_a_trickling_link_ends_the_read_after_the_stall_limit() -> None:
    with RtspServer(["cam0"]) as server, TricklingLink(server.port, after_seconds=1.5) as link:
        source = open_source(f"rtsp://127.0.0.1:{link.port}/cam0", SourceOptions(transport="tcp"))
        outcome: list[BaseException | None] = []
        given_after_cut: list[int] = []  # sizes of packets given once the link was cut (a frame FFmpeg had part read)

        def read() -> None:
            try:
                given_after_cut.extend(packet.size for packet in source.packets(threading.Event(), 2.0)
                                       if source._link.cut)
                outcome.append(None)
            except Exception as exc:
                outcome.append(exc)

        began = time.monotonic()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            reader.join(20)
            assert not reader.is_alive(), "the read is still held by the trickle"
        finally:
            source.interrupt()
            reader.join(5)
            source.close()
        assert isinstance(outcome[0], StallError) and "trickling link" in str(outcome[0]), outcome
        assert given_after_cut == [], "a frame cut short by the cut went on to the recorder"
        assert time.monotonic() - began < 10, "cut about 2 s after the last picture"


def test_a_worker_on_a_trickling_link_reconnects_and_stops_when_asked() -> None:
    states: list[tuple[str, str | None]] = []
    with RtspServer(["cam0"]) as server, TricklingLink(server.port, after_seconds=1.5) as link:
        worker = StreamWorker("hem-2", "record", f"rtsp://127.0.0.1:{link.port}/cam0", SourceOptions(transport="tcp"),
                              stall_seconds=3, backoff=Backoff(0.1, 0.2), sinks=[],
                              on_state=lambda state, reason: states.append((state, reason)))
        with running(worker, join_seconds=10):
            wait_for(lambda: [state for state, _ in states] == ["online", "offline", "online"], 30,
                     "the worker to drop the trickling connection and connect again")
        assert not worker._thread.is_alive()
        assert "trickling link" in str(states[1][1])

    held = []
    with RtspServer(["cam0"]) as server, TricklingLink(server.port, after_seconds=1.0, trickled=10) as link:
        worker = StreamWorker("hem-2", "record", f"rtsp://127.0.0.1:{link.port}/cam0", SourceOptions(transport="tcp"),
                              stall_seconds=600, backoff=Backoff(0.1, 0.2), sinks=[],
                              on_state=lambda state, reason: held.append(state))
        worker.start()

        def stalled() -> bool:
            last = worker.status.snapshot().last_frame
            return held == ["online"] and last is not None and time.time() - last > 3

        wait_for(stalled, 20, "the trickle to hold the read")
        asked = time.monotonic()
        worker.stop()
        worker.join(10)
        assert not worker._thread.is_alive(), "the worker stops though its read waits on the trickle"
        assert time.monotonic() - asked < 5


def test_channels_of_one_address_open_side_by_side_and_each_cuts_only_its_own() -> None:
    """Two channels of one DVR (one address and port) opened at once: neither waits for the other's whole open (about
    1.2 s each, most of it FFmpeg probing), and cutting one's link leaves the other's stream flowing."""
    with RtspServer(["ch1", "ch2"]) as server:
        opened: dict[str, OpenedSource] = {}
        spans: list[float] = []

        def open_channel(mount: str) -> None:
            began = time.monotonic()
            opened[mount] = open_source(server.url(mount), SourceOptions(transport="tcp"))
            spans.append(time.monotonic() - began)

        began = time.monotonic()
        openers = [threading.Thread(target=open_channel, args=(mount,)) for mount in ("ch1", "ch2")]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(20)
        both = time.monotonic() - began
        try:
            assert len(opened) == 2 and both < 1.5 * max(spans), (both, spans)
            opened["ch1"].interrupt()
            flowing = opened["ch2"].packets(threading.Event(), 5.0)
            assert sum(1 for _packet in itertools.islice(flowing, 30)) == 30, "the other channel still streams"
            with pytest.raises(StallError):
                for _packet in opened["ch1"].packets(threading.Event(), 5.0):
                    pass
        finally:
            for source in opened.values():
                source.close()
