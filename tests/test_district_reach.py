"""The district's links to posts against small fake posts: one post's odd answer is that post's error, never
stops or holds the checks of the others, and is read no further than needed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from nvr.district import reachability
from nvr.district.config import StationLink
from nvr.district.reachability import Reachability


async def _answer(request: httpx.Request) -> httpx.Response:
    post = request.url.host
    if post == "proxy":
        return httpx.Response(200, text="<html>gateway</html>")
    if post == "dripping":
        await asyncio.sleep(30)  # as a post answering a byte every few seconds: never within the check's time
    return httpx.Response(200, json={"id": post})


def test_an_odd_answer_is_that_post_s_error_and_the_checks_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reachability, "TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(reachability, "POLL_SECONDS", 0.05)
    posts = ["proxy", "dripping", "good"]
    reach = Reachability([StationLink(id=p, url=f"http://{p}", api_key="k" * 32) for p in posts])

    async def until(done: Callable[[], bool], running: asyncio.Task[None]) -> None:
        async with asyncio.timeout(10):
            while not done():
                assert not running.done(), "the checks stopped"
                await asyncio.sleep(0.02)

    async def two_rounds() -> None:
        transport = httpx.MockTransport(_answer)
        clients = {p: httpx.AsyncClient(transport=transport, base_url=f"http://{p}") for p in posts}
        running = asyncio.create_task(reach.run(clients))
        try:
            await until(lambda: len(reach.reach) == len(posts), running)
            first = {p: r.checked_ms for p, r in reach.reach.items()}
            await until(lambda: all(reach.reach[p].checked_ms > first[p] for p in posts), running)
        finally:
            running.cancel()
            for client in clients.values():
                await client.aclose()

    asyncio.run(two_rounds())
    assert reach.reach["good"].reachable and reach.reach["good"].error is None
    assert reach.reach["proxy"].error == "the answer is not a station's"
    assert reach.reach["dripping"].error == "no answer (TimeoutError)"


def test_a_post_refusing_with_an_endless_body_is_a_502_read_no_further_than_its_start() -> None:
    """A clip asked of a post that answers 500 and then bytes without end: they were read whole into the district
    server's memory (2 GB) before the refusal was passed on."""
    from fastapi import HTTPException

    from nvr.district.relay import ANSWER_BYTES, open_stream

    sent = [0]

    async def endless() -> AsyncIterator[bytes]:
        while sent[0] < 1 << 30:
            sent[0] += 1 << 16
            yield b"x" * (1 << 16)

    async def refuse(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=endless())

    async def ask() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://post") as client:
            await open_stream(client, "phuong-a", "/api/cameras/cam0/clip.mp4", {})

    with pytest.raises(HTTPException) as refused:
        asyncio.run(ask())
    assert refused.value.status_code == 502 and "answered 500" in refused.value.detail
    assert sent[0] <= ANSWER_BYTES + (1 << 16)
