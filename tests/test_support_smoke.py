"""Prove the test infrastructure is real: live H.264 RTSP cameras and a PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from itertools import pairwise

import av
import av.error
import pytest
import sqlalchemy as sa

from tests.support.postgres import PostgresServer
from tests.support.rtsp import RtspServer

# analyzeduration cuts av.open on these streams from ~2.0 s (default probing) to ~0.7 s.
AV_OPTS = {"rtsp_transport": "tcp", "analyzeduration": "500000"}
GOP = 15
FPS = 15


def open_rtsp(url: str) -> av.container.InputContainer:
    """Open an RTSP URL the way the tests do."""
    return av.open(url, options=AV_OPTS, timeout=(5, 5))


def packets(container: av.container.InputContainer, n: int, within: float = 10.0) -> list[av.Packet]:
    """Read n video packets, failing if that takes longer than `within` seconds."""
    deadline = time.monotonic() + within
    out: list[av.Packet] = []
    for pkt in container.demux(video=0):
        out.append(pkt)
        assert time.monotonic() < deadline, f"only {len(out)} packets in {within}s"
        if len(out) == n:
            return out
    raise AssertionError(f"stream ended after {len(out)} packets")


@pytest.fixture
def cams() -> Iterator[RtspServer]:
    """Two live cameras, cam0 and cam1."""
    with RtspServer(["cam0", "cam1"], fps=FPS, gop=GOP) as server:
        yield server


def test_two_mounts_serve_live_h264_with_regular_keyframes(cams: RtspServer) -> None:
    c0, c1 = open_rtsp(cams.url("cam0")), open_rtsp(cams.url("cam1"))
    with c0, c1:
        lumas = []
        for c in (c0, c1):
            stream = c.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
            pkts = packets(c, 3 * GOP + 1)
            # The first packet of a session carries pts=None (observed); later ones are timed.
            pts = [p.pts for p in pkts if p.pts is not None]
            assert len(pts) >= 3 * GOP and all(a < b for a, b in pairwise(pts))
            key_idx = [i for i, p in enumerate(pkts) if p.is_keyframe]
            assert len(key_idx) >= 3 and {b - a for a, b in pairwise(key_idx)} == {GOP}
            key_pts = [p.pts for p in (pkts[i] for i in key_idx[1:]) if p.pts is not None]
            assert stream.time_base is not None
            assert {(b - a) * stream.time_base for a, b in pairwise(key_pts)} == {Fraction(GOP, FPS)}
            frame = next(f for p in pkts[key_idx[0]:] for f in p.decode())
            lumas.append(frame.to_ndarray(format="gray").mean())
        assert abs(lumas[0] - lumas[1]) > 5, "mounts should show different test patterns"


def test_basic_auth_required() -> None:
    with RtspServer(["cam0"], user="officer", password="s3cret") as server:
        with open_rtsp(server.url("cam0", user="officer", password="s3cret")) as c:
            assert packets(c, 2)[0].is_keyframe
        # Observed: HTTPUnauthorizedError "Server returned 401 Unauthorized (authorization failed)".
        for url in (server.url("cam0", user="officer", password="wrong"), server.url("cam0")):
            with pytest.raises(av.error.HTTPUnauthorizedError):
                open_rtsp(url)


def test_kill_then_restart_on_same_port(cams: RtspServer) -> None:
    port = cams.port
    with open_rtsp(cams.url("cam0")) as c:
        packets(c, 2)
        cams.kill()
        assert not cams.running
        # Observed: after SIGKILL the demuxer yields one empty flush packet and then just ends
        # (no exception); accept an av error too, but it must notice within the deadline.
        deadline = time.monotonic() + 5
        try:
            for _ in c.demux(video=0):
                assert time.monotonic() < deadline, "demux did not notice the dead camera"
        except av.error.FFmpegError:
            pass
    with pytest.raises(av.error.ConnectionRefusedError):
        open_rtsp(cams.url("cam0"))
    cams.start()
    assert cams.running and cams.port == port
    with open_rtsp(cams.url("cam1")) as c:
        assert len(packets(c, GOP + 1)) == GOP + 1


def test_postgres_select_1() -> None:
    with PostgresServer() as pg:
        engine = sa.create_engine(pg.url())
        try:
            with engine.connect() as conn:
                assert conn.execute(sa.text("select 1")).scalar_one() == 1
                assert conn.execute(sa.text("select current_database()")).scalar_one() == pg.dbname
        finally:
            engine.dispose()
