"""The district's reach checks against small fake posts: one post's odd answer is that post's error, and never
stops or holds the checks of the others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
