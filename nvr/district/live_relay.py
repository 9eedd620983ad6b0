"""Live pictures relayed from the posts: one upstream `live.mp4` per (station, camera, quality), opened by its
first district viewer and closed LINGER_SECONDS after its last one left, fanned out to all of them.

The relay never looks inside a picture. It splits the post's fragmented MP4 into its top-level boxes and keeps
the init segment and the fragments since the last keyframe's (ingest/fmp4.py tells one from the box headers),
so a viewer who joins later starts at once at that keyframe, as a viewer at the post does. A viewer that falls
behind (a slow link to its browser) loses fragments up to the next keyframe's, never slowing the others.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass, field

import httpx
from fastapi import HTTPException

from ingest.fmp4 import BoxReader, starts_with_keyframe
from ingest.live_units import MAX_GOP_BYTES
from nvr.district.relay import open_stream

log = logging.getLogger(__name__)
LINGER_SECONDS = 3.0  # a reload or a second tab within this reuses the upstream
VIEWER_FRAGMENTS = 40  # ~20 s of 0.5 s fragments waiting for one viewer, then it skips to a keyframe's
PASSED_ON = ("x-live-quality", "x-live-transcoded")
Key = tuple[str, str, str]  # station, camera, quality


@dataclass(eq=False)
class Viewer:
    """One district viewer's fragments (None: the upstream ended)."""

    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    resync: bool = False  # dropped a fragment: wait for a keyframe's

    def offer(self, chunk: bytes, keyframe: bool, init: bool = False) -> None:
        """`init`: a new init segment, which every viewer must have (the keyframe's fragment follows it)."""
        if init:
            self.queue.put_nowait(chunk)
            return
        if self.resync and not keyframe:
            return
        self.resync = self.queue.qsize() >= VIEWER_FRAGMENTS
        if not self.resync:
            self.queue.put_nowait(chunk)

    def end(self) -> None:
        self.queue.put_nowait(None)


class Upstream:
    """One post's live stream, read by a task of its own while anyone watches."""

    def __init__(self, relays: LiveRelays, key: Key, client: httpx.AsyncClient) -> None:
        self._relays, self.key, self._client = relays, key, client
        self.viewers: set[Viewer] = set()
        self.headers: dict[str, str] = {}
        self._init = b""
        self._gop: list[bytes] = []  # the fragments since the last keyframe's
        self._gop_bytes = 0
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._closing: asyncio.TimerHandle | None = None
        self._task = asyncio.create_task(self._run())

    def join(self, viewer: Viewer) -> None:
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        for chunk in ([self._init] if self._init else []) + self._gop:
            viewer.queue.put_nowait(chunk)
        self.viewers.add(viewer)

    async def close(self) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)
        if not self.viewers and self._closing is None:
            self._closing = asyncio.get_running_loop().call_later(LINGER_SECONDS, self._task.cancel)

    async def _run(self) -> None:
        station, camera, quality = self.key
        try:
            answer = await open_stream(self._client, station, f"/api/cameras/{camera}/live.mp4", {"quality": quality})
        except BaseException as exc:  # refused, unreachable, or closed (every viewer left) before it answered
            self._relays.forget(self)
            self.ready.set_exception(exc if isinstance(exc, HTTPException)
                                     else HTTPException(502, f"station {station}: the live relay was closed"))
            self.ready.exception()  # taken: when every viewer left meanwhile, nobody else will
            if not isinstance(exc, HTTPException):
                raise
            return
        log.info("live relay of %s/%s (%s) opened", station, camera, quality)
        self.headers = {name: answer.headers[name] for name in PASSED_ON if name in answer.headers}
        self.ready.set_result(None)
        try:
            await self._relay(answer)
        except (httpx.HTTPError, ValueError) as exc:
            log.info("live relay of %s/%s (%s) broke off: %r", station, camera, quality, exc)
        finally:
            self._relays.forget(self)
            await answer.aclose()
            for viewer in self.viewers:
                viewer.end()
            log.info("live relay of %s/%s (%s) closed", station, camera, quality)

    async def _relay(self, answer: httpx.Response) -> None:
        boxes = BoxReader()
        head = b""  # an init segment's ftyp, or a fragment's moof, until the box after it comes
        async for chunk in answer.aiter_raw():
            for kind, data in boxes.feed(chunk):
                if kind in (b"ftyp", b"moof"):
                    head = data
                elif kind == b"moov":
                    self._init = head + data
                    self._new_gop()
                    self._publish(self._init, True, init=True)
                elif kind == b"mdat" and head:
                    keyframe, fragment = starts_with_keyframe(head), head + data
                    if keyframe:
                        self._new_gop()
                    if keyframe or self._gop:
                        self._gop.append(fragment)
                        self._gop_bytes += len(fragment)
                    if self._gop_bytes > MAX_GOP_BYTES:  # no keyframe for long: new viewers wait for the next
                        self._new_gop()
                    self._publish(fragment, keyframe)
                    head = b""

    def _new_gop(self) -> None:
        self._gop, self._gop_bytes = [], 0

    def _publish(self, chunk: bytes, keyframe: bool, init: bool = False) -> None:
        for viewer in self.viewers:
            viewer.offer(chunk, keyframe, init)


class LiveRelays:
    """The open upstreams of the district server, on its event loop."""

    def __init__(self) -> None:
        self._open: dict[Key, Upstream] = {}

    async def watch(self, client: httpx.AsyncClient, key: Key) -> tuple[Upstream, Viewer]:
        """A new viewer of `key`, joined to its upstream (opened now if there is none); the upstream's
        HTTPException when the post refused or could not be reached."""
        upstream = self._open.get(key)
        if upstream is None:
            upstream = self._open[key] = Upstream(self, key, client)
        viewer = Viewer()
        upstream.join(viewer)
        try:
            await asyncio.shield(upstream.ready)
        except BaseException:
            upstream.leave(viewer)
            raise
        return upstream, viewer

    def forget(self, upstream: Upstream) -> None:
        if self._open.get(upstream.key) is upstream:
            del self._open[upstream.key]

    async def close(self) -> None:
        """End every upstream (their viewers' streams end): the server is stopping, before its clients close."""
        await asyncio.gather(*(upstream.close() for upstream in list(self._open.values())), return_exceptions=True)
