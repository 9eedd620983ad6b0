"""An account's event streams (WebSockets) and live views end with its access, through the real server
(uvicorn) and real WebRTC viewers: logging out ends the session's, a new password all of the account's, a
revoked grant the camera's live views and events, before the change is answered; a change made elsewhere
(`nvr user`) within seconds. One account holds a bounded number of each, and an answered offer that never
connects is freed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import httpx
import pytest
import yaml
from aiortc import RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api import session_watch
from api.connections import LOGGED_OUT, NOT_GRANTED, PASSWORD_CHANGED, SESSION_ENDED, Closure, Connections
from nvr.station import Station
from storage.accounts import AccountStore, User
from storage.events import Event
from tests.conftest import station_config, wait_for
from tests.support.live import offering_viewer
from tests.support.rtsp import RtspServer
from tests.support.web import serving

VIEWER, OTHER_VIEWER, GREEDY = "nha-so-5", "nha-so-7", "nha-so-9"
PASSWORD = "household-pass"
LIVE_LIMIT, SOCKET_LIMIT, CONNECT_TIMEOUT_S = 3, 2, 5


@pytest.fixture(scope="module")
def station(cameras: RtspServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    work = tmp_path_factory.mktemp("session-ends")
    off = {"enabled": False}  # the events here are made by hand
    config = station_config(work, [{"name": "cam0", "record_url": cameras.url("cam0"), "detect": off},
                                   {"name": "cam1", "record_url": cameras.url("cam1"), "detect": off}],
                            runtime={"recorder_processes": 1},
                            server={"max_live_views_per_user": LIVE_LIMIT, "max_websockets_per_user": SOCKET_LIMIT,
                                    "live_connect_timeout_seconds": CONNECT_TIMEOUT_S})
    station = Station(config)
    station.start()
    try:
        assert station.wait_ready(30), "the recorder process did not come up"
        for username in (VIEWER, OTHER_VIEWER, GREEDY):
            station.accounts.add(username, PASSWORD, "viewer")
            station.accounts.grant(username, ["cam0", "cam1"])
        for name in ("cam0", "cam1"):
            wait_for(lambda n=name: station.index.segments(n, 0, 2**62), 20, f"footage of {name}")
        yield station
    finally:
        station.stop()


async def login(http: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """The headers of a new session of `username`."""
    answer = await http.post("/api/auth/login", json={"username": username, "password": password})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@asynccontextmanager
async def event_stream(base: str, session: dict[str, str]) -> AsyncIterator[ClientConnection]:
    token = session["Authorization"].removeprefix("Bearer ")
    async with connect(f"{base.replace('http', 'ws', 1)}/api/events/ws?token={token}", open_timeout=10) as socket:
        yield socket


async def closing_of(socket: ClientConnection) -> Closure | None:
    """The close code and reason the station ends `socket` with (no event may come first)."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(socket.recv(), 10)
    return Closure(closed.value.rcvd.code, closed.value.rcvd.reason) if closed.value.rcvd else None


async def next_event_id(socket: ClientConnection) -> int:
    return int(json.loads(await asyncio.wait_for(socket.recv(), 10))["id"])


class Viewer:
    """A WebRTC viewer of one camera, connected and showing pictures."""

    def __init__(self, peer: RTCPeerConnection) -> None:
        self.peer = peer
        self._closed = asyncio.Event()
        peer.on("connectionstatechange", self._state)

    def _state(self) -> None:
        if self.peer.connectionState in ("closed", "failed"):
            self._closed.set()

    @classmethod
    async def open(cls, http: httpx.AsyncClient, session: dict[str, str], camera: str) -> Viewer:
        peer, arrived = await offering_viewer()
        view = cls(peer)
        answer = await http.post(f"/api/cameras/{camera}/live", headers=session,
                                 json={"sdp": peer.localDescription.sdp, "type": "offer"})
        assert answer.status_code == 200, answer.text
        await peer.setRemoteDescription(RTCSessionDescription(answer.json()["sdp"], answer.json()["type"]))
        track = await asyncio.wait_for(arrived, 10)
        await asyncio.wait_for(track.recv(), 10)  # a decoded picture
        return view

    async def ended_by_the_station(self) -> None:
        await asyncio.wait_for(self._closed.wait(), 10)


def viewers(station: Station, camera: str) -> int:
    hub = station.hub(camera, "record")
    assert hub is not None
    return hub.viewer_count


def finished_event(station: Station, camera: str) -> Event:
    """A motion event of `camera`, already over (so no later stream gets it as going on)."""
    start = station.index.segments(camera, 0, 2**62)[0].start_ms
    return station.events.update(station.events.open(camera, "motion", start, 0.5, []).id, end_ms=start + 1000)


def test_logout_a_new_password_and_a_revoked_grant_end_connections_before_the_answer(station: Station) -> None:
    with serving(station) as base:
        asyncio.run(_ends_at_once(station, base))
    stops = {e.detail for e in station.audit.entries(start_ms=0, end_ms=2**62, username=VIEWER, action="live_stop")}
    assert stops == {NOT_GRANTED.reason, LOGGED_OUT.reason, PASSWORD_CHANGED.reason}


async def _ends_at_once(station: Station, base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        admin = await login(http, "admin", os.environ["NVR_ADMIN_PASSWORD"])
        phone, desk = await login(http, VIEWER), await login(http, VIEWER)  # two sessions of one household
        async with event_stream(base, phone) as phone_events, event_stream(base, desk) as desk_events:
            await asyncio.to_thread(wait_for, lambda: station.event_bus.count == 2, 10, "both event streams subscribed")
            phone0, phone1 = await Viewer.open(http, phone, "cam0"), await Viewer.open(http, phone, "cam1")
            desk0 = await Viewer.open(http, desk, "cam0")
            try:
                revoked = await http.put(f"/api/users/{VIEWER}/grants", json={"cameras": ["cam0"]}, headers=admin)
                assert revoked.status_code == 200
                assert (viewers(station, "cam1"), viewers(station, "cam0")) == (0, 2), "cam1's view ended first"
                await phone1.ended_by_the_station()
                hidden, shown = finished_event(station, "cam1"), finished_event(station, "cam0")
                station.event_bus.publish(hidden)
                station.event_bus.publish(shown)
                assert [await next_event_id(phone_events), await next_event_id(desk_events)] == [shown.id] * 2

                assert (await http.post("/api/auth/logout", headers=phone)).status_code == 200
                assert viewers(station, "cam0") == 1, "the session's live view ended first, the other session's not"
                assert await closing_of(phone_events) == LOGGED_OUT
                await phone0.ended_by_the_station()
                still = finished_event(station, "cam0")
                station.event_bus.publish(still)
                assert await next_event_id(desk_events) == still.id, "the desk's session goes on"

                changed = await http.post(f"/api/users/{VIEWER}/password", json={"password": "a-new-household-pass"},
                                          headers=admin)
                assert changed.status_code == 200 and viewers(station, "cam0") == 0
                assert await closing_of(desk_events) == PASSWORD_CHANGED
                await desk0.ended_by_the_station()
            finally:
                await asyncio.gather(*(view.peer.close() for view in (phone0, phone1, desk0)))


def test_a_change_made_with_nvr_user_reaches_open_connections_within_seconds(station: Station,
                                                                             tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(station.config.data_dir), "cameras": [
        {"name": name, "record_url": "demo://alley"} for name in ("cam0", "cam1")]}))
    with serving(station) as base:
        asyncio.run(_changed_elsewhere(station, base, config))


async def _changed_elsewhere(station: Station, base: str, config: Path) -> None:
    async def nvr_user(*args: str, stdin: bytes = b"") -> None:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "nvr", "--config", str(config), "user",
                                                       *args, stdin=asyncio.subprocess.PIPE)
        await process.communicate(stdin)
        assert process.returncode == 0, args

    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        session = await login(http, OTHER_VIEWER)
        async with event_stream(base, session) as events:
            view = await Viewer.open(http, session, "cam1")
            try:
                await nvr_user("revoke", OTHER_VIEWER, "cam1")
                await view.ended_by_the_station()
                await nvr_user("passwd", OTHER_VIEWER, stdin=b"another-household-pass\n")
                assert await closing_of(events) == SESSION_ENDED
            finally:
                await view.peer.close()


def test_live_views_and_event_streams_are_bounded_per_account_and_unconnected_offers_freed(
        station: Station) -> None:
    with serving(station) as base:
        asyncio.run(_bounded(station, base))


async def _bounded(station: Station, base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        greedy, other = await login(http, GREEDY), await login(http, "admin", os.environ["NVR_ADMIN_PASSWORD"])
        peers: list[RTCPeerConnection] = []

        async def offer(session: dict[str, str]) -> httpx.Response:
            """An offer answered, never connected: the viewer does not take the answer (its peer stays up)."""
            peer, _arrived = await offering_viewer()
            peers.append(peer)
            return await http.post("/api/cameras/cam0/live", headers=session,
                                   json={"sdp": peer.localDescription.sdp, "type": "offer"})

        try:
            assert [(await offer(greedy)).status_code for _ in range(LIVE_LIMIT)] == [200] * LIVE_LIMIT
            refused = await offer(greedy)
            assert refused.status_code == 429
            assert refused.json()["detail"] == f"too many live views open for this account (limit {LIVE_LIMIT})"
            assert (await offer(other)).status_code == 200, "the limit is per account"
            await asyncio.to_thread(wait_for, lambda: viewers(station, "cam0") == 0, 15, "the unconnected offers freed")
            assert (await offer(greedy)).status_code == 200
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))

        async with event_stream(base, greedy) as first, event_stream(base, greedy):
            async with event_stream(base, greedy) as third:
                assert await closing_of(third) == Closure(
                    4429, f"too many event streams open for this account (limit {SOCKET_LIMIT})")
            await first.close()
            await until_a_stream_is_accepted(base, greedy)


async def until_a_stream_is_accepted(base: str, session: dict[str, str]) -> None:
    """A stream closed by its viewer frees its place without waiting for an event to fail on."""
    async with asyncio.timeout(10):
        while True:
            async with event_stream(base, session) as socket:
                try:
                    await socket.ping()  # a refusal would come before the pong
                    return
                except ConnectionClosed:
                    pass
            await asyncio.sleep(0.05)


def test_a_recheck_read_before_a_revocation_made_through_the_api_does_not_undo_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The recheck reads the accounts in a worker thread; a grant the API revokes meanwhile stays revoked."""
    monkeypatch.setattr(session_watch, "RECHECK_SECONDS", 0.01)
    granted = User(1, VIEWER, "viewer", frozenset({"cam0", "cam1"}))
    revoked = User(1, VIEWER, "viewer", frozenset({"cam0"}))

    async def after_the_first_recheck() -> User:
        loop = asyncio.get_running_loop()
        connections = Connections({"websocket": 1, "live": 1})
        held = connections.open("websocket", granted, "token")
        seen: asyncio.Future[User] = loop.create_future()

        class Accounts:
            reads = 0

            def user_for_digest(self, _digest: str) -> User:
                """The first reading is older than the revocation the API makes while it is read."""
                self.reads += 1
                if self.reads == 1:
                    asyncio.run_coroutine_threadsafe(connections.regrant(revoked), loop).result(5)
                    return granted
                if self.reads == 2:  # the first recheck is over: what did it leave?
                    loop.call_soon_threadsafe(seen.set_result, held.user)
                return revoked

        watch = asyncio.create_task(session_watch.watch_sessions(connections, cast(AccountStore, Accounts())))
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            watch.cancel()

    assert asyncio.run(after_the_first_recheck()) == revoked
