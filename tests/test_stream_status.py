"""A stream's status as the operator reads it: why it went offline stays while reconnecting fails."""

from __future__ import annotations

from ingest.status import StreamStatus


def test_the_cause_of_going_offline_outlasts_the_failed_reconnects_and_clears_online() -> None:
    status = StreamStatus()
    status.offline("opening the stream failed: [Errno 111] Connection refused")
    assert status.snapshot().offline_cause == "opening the stream failed: [Errno 111] Connection refused"
    status.online(640, 360, "h264", "tcp")
    assert status.snapshot().offline_cause is None
    status.offline("no data from the camera for 1 s or more (read timeout)")
    went = status.snapshot().since
    for _ in range(3):
        status.connecting()
        assert status.snapshot().state == "offline", "offline through its reconnect attempts"
        status.offline("the camera accepted the connection but did not answer within 1 s (timed out)")
    snapshot = status.snapshot()
    assert snapshot.since == went, "since the moment it went, not the latest attempt (found in review)"
    assert snapshot.offline_cause == "no data from the camera for 1 s or more (read timeout)"
    assert snapshot.last_error == "the camera accepted the connection but did not answer within 1 s (timed out)"
    assert snapshot.reconnects == 1


def test_the_cause_never_shows_a_password() -> None:
    status = StreamStatus()
    status.offline("opening rtsp://admin:hunter2@10.0.0.5/stream1 failed")
    assert status.snapshot().offline_cause == "opening rtsp://admin:***@10.0.0.5/stream1 failed"


def test_a_stream_that_stops_making_packets_reads_as_stalled_while_its_read_still_waits() -> None:
    """A camera sending a byte a second keeps each read within the socket's timeout, and the worker finds a stall
    only when a packet comes: its status must say so meanwhile (it stayed online, and no alert came)."""
    from tests.conftest import wait_for

    status = StreamStatus(stall_seconds=0.3)
    status.online(640, 360, "h264", "tcp")
    status.packet(1200)
    assert status.snapshot().state == "online"
    wait_for(lambda: status.snapshot().state == "offline", 5, "the stall shown")
    stalled = status.snapshot()
    assert stalled.last_error is not None and stalled.last_error.startswith("no video for")
    assert "stalled stream" in stalled.last_error
    assert stalled.offline_cause == stalled.last_error and stalled.fps == 0.0 and stalled.reconnects == 1
    assert StreamStatus().snapshot().state == "connecting"  # no stall rule without stall_seconds
