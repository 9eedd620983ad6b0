"""Footage pulled from the owning post's box with the district's machine key and streamed through as it
arrives: never held whole in memory (a day's clip is gigabytes), and the post audits the request as its own
clip route always does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import HTTPException
from fastapi.responses import StreamingResponse

from nvr.district.config import StationLink

CONNECT_SECONDS = 5.0
READ_SECONDS = 30.0  # a post cuts a clip as it streams it: the first bytes come at once, then steadily
PASSED_ON = ("content-disposition", "x-clip-start-ms")


def client_options(link: StationLink) -> dict[str, Any]:
    """How the district speaks to a post: its address, its TLS check, the timeouts, the post's machine key."""
    return {"base_url": link.url, "verify": link.tls_verify,
            "timeout": httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
            "headers": {"Authorization": f"Bearer {link.api_key.get_secret_value()}"}}


def station_clients(stations: list[StationLink]) -> dict[str, httpx.AsyncClient]:
    """One client (its own pool of connections) per post, with the post's machine key."""
    return {s.id: httpx.AsyncClient(**client_options(s)) for s in stations}


ANSWER_BYTES = 64 << 10  # read of a post's answer that is not footage: its JSON is a few hundred bytes


async def relay_clip(client: httpx.AsyncClient, station: str, camera: str, start: str, end: str
                     ) -> StreamingResponse:
    """The post's `clip.mp4` of [start, end). Its 4xx answers are passed on (no footage there: 404);
    a post that does not answer is 504, one that fails or answers otherwise 502."""
    answer = await open_stream(client, station, f"/api/cameras/{camera}/clip.mp4", {"start": start, "end": end})
    headers = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
    return StreamingResponse(_body(answer), media_type="video/mp4", headers={**headers, "Cache-Control": "no-store"})


async def open_stream(client: httpx.AsyncClient, station: str, path: str, params: dict[str, str]
                      ) -> httpx.Response:
    """The post's streaming answer to GET `path` once it said 200; the caller closes it. Otherwise the
    HTTPException to answer: the post's 400, 404, 409 and 503 passed on, 504 for a post silent too long, 502 else."""
    asked = client.build_request("GET", path, params=params)
    try:
        answer = await client.send(asked, stream=True)
    except httpx.TimeoutException:
        raise HTTPException(504, f"station {station} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise HTTPException(502, f"station {station} is unreachable ({type(exc).__name__})") from None
    if answer.status_code != 200:
        try:
            said = await first_bytes(answer, ANSWER_BYTES)
        finally:
            await answer.aclose()
        raise post_refusal(station, httpx.Response(answer.status_code, content=said))
    return answer


async def first_bytes(answer: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of an answer's body: a post's refusal is a line of JSON, and one answering gigabytes
    had them read into the district server's memory whole."""
    said = bytearray()
    async for chunk in answer.aiter_bytes():
        said += chunk
        if len(said) >= limit:
            break
    return bytes(said[:limit])


async def bounded_call(client: httpx.AsyncClient, method: str, path: str, seconds: float,
                       body: dict[str, Any] | None = None) -> httpx.Response:
    """A call to a post whose answer is JSON, not footage: whole within `seconds` (TimeoutError; httpx's own
    timeouts are per read, and a post answering a byte every few seconds held the caller for as long), and no
    more than ANSWER_BYTES of its answer read."""
    async with asyncio.timeout(seconds), client.stream(method, path, json=body) as streamed:
        return httpx.Response(streamed.status_code, content=await first_bytes(streamed, ANSWER_BYTES))


def json_object(answer: httpx.Response) -> dict[str, Any] | None:
    """A post's answer as the JSON object it should be; None when it is something else (a proxy's page, a list)."""
    try:
        found = answer.json()
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def post_detail(answer: httpx.Response) -> str:
    """The reason a post gave with an answer that is not 200 (its JSON `detail`), or ""."""
    found = json_object(answer)
    return str(found.get("detail", "")) if found is not None else ""


def post_refusal(station: str, answer: httpx.Response) -> HTTPException:
    detail = post_detail(answer)
    if answer.status_code in (400, 404, 409, 503):  # 503: the post's camera is offline
        return HTTPException(answer.status_code, f"station {station}: {detail}")
    return HTTPException(502, f"station {station} answered {answer.status_code}" + (f": {detail}" if detail else ""))


async def _body(answer: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_bytes():
            yield chunk
    finally:
        await answer.aclose()
