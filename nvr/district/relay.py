"""Footage pulled from the owning post's box with the district's machine key and streamed through as it
arrives: never held whole in memory (a day's clip is gigabytes), and the post audits the request as its own
clip route always does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import HTTPException
from fastapi.responses import StreamingResponse

from nvr.district.config import StationLink

CONNECT_SECONDS = 5.0
READ_SECONDS = 30.0  # a post cuts a clip as it streams it: the first bytes come at once, then steadily
PASSED_ON = ("content-disposition", "x-clip-start-ms")


def station_clients(stations: list[StationLink]) -> dict[str, httpx.AsyncClient]:
    """One client (its own pool of connections) per post, with the post's machine key."""
    return {s.id: httpx.AsyncClient(base_url=s.url, verify=s.tls_verify,
                                    timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
                                    headers={"Authorization": f"Bearer {s.api_key.get_secret_value()}"})
            for s in stations}


async def relay_clip(client: httpx.AsyncClient, station: str, camera: str, start: str, end: str
                     ) -> StreamingResponse:
    """The post's `clip.mp4` of [start, end). Its 4xx answers are passed on (no footage there: 404);
    a post that does not answer is 504, one that fails or answers otherwise 502."""
    asked = client.build_request("GET", f"/api/cameras/{camera}/clip.mp4", params={"start": start, "end": end})
    try:
        answer = await client.send(asked, stream=True)
    except httpx.TimeoutException:
        raise HTTPException(504, f"station {station} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise HTTPException(502, f"station {station} is unreachable ({type(exc).__name__})") from None
    if answer.status_code != 200:
        await answer.aread()
        await answer.aclose()
        raise _refusal(station, answer)
    headers = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
    return StreamingResponse(_body(answer), media_type="video/mp4", headers={**headers, "Cache-Control": "no-store"})


def _refusal(station: str, answer: httpx.Response) -> HTTPException:
    try:
        detail = str(answer.json().get("detail", ""))
    except ValueError:
        detail = ""
    if answer.status_code in (400, 404):
        return HTTPException(answer.status_code, f"station {station}: {detail}")
    return HTTPException(502, f"station {station} answered {answer.status_code}" + (f": {detail}" if detail else ""))


async def _body(answer: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_bytes():
            yield chunk
    finally:
        await answer.aclose()
