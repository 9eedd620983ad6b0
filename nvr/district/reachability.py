"""Whether each post's box answers: `GET /api/station` with the district's machine key every few seconds
(which also proves the key is valid there). Runs on the district server's event loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx

from nvr.district.config import StationLink
from nvr.district.relay import bounded_call, json_object
from storage.clock import now_ms

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0
TIMEOUT_SECONDS = 4.0


@dataclass(frozen=True)
class Reach:
    reachable: bool
    checked_ms: int
    last_answer_ms: int | None
    error: str | None  # why not, in words; None when reachable


class Reachability:
    def __init__(self, stations: list[StationLink]) -> None:
        self._stations = stations
        self.reach: dict[str, Reach] = {}

    async def run(self, clients: dict[str, httpx.AsyncClient]) -> None:
        """Until cancelled; `clients`: each post's, with its machine key (relay.station_clients)."""
        while True:
            await asyncio.gather(*(self._check(s.id, clients[s.id]) for s in self._stations))
            await asyncio.sleep(POLL_SECONDS)

    async def _check(self, station: str, client: httpx.AsyncClient) -> None:
        before = self.reach.get(station)
        last = before.last_answer_ms if before else None
        try:
            # an answer that is no station's JSON is an error of that post only (it ended the polling task, and
            # every post kept its last state for good)
            answer = await bounded_call(client, "GET", "/api/station", TIMEOUT_SECONDS)
            error = None if answer.status_code == 200 else f"answered {answer.status_code}"
            if answer.status_code == 200 and (found := _station_id(answer)) != station:
                error = f"the box there is station {found!r}" if found else "the answer is not a station's"
        except (httpx.HTTPError, TimeoutError) as exc:
            error = f"no answer ({type(exc).__name__})"
        now = now_ms()
        self.reach[station] = Reach(error is None, now, now if error is None else last, error)
        if before is not None and before.error != error:
            log.info("station %s: %s", station, "reachable" if error is None else error)


def _station_id(answer: httpx.Response) -> str | None:
    """The `id` of a post's `GET /api/station` answer; None when it is no such answer."""
    identity = (json_object(answer) or {}).get("id")
    return identity if isinstance(identity, str) else None
