"""A live hub's frames as a fragmented MP4 byte stream (ingest/fmp4.py), by stream copy.

The stream starts at the hub's current GOP, so the first picture comes at once. A fragment is closed when
a keyframe comes (each GOP starts a fragment, where a late joiner of the district's relay can begin) or
when it holds FRAGMENT_SECONDS: a frame's duration is known only when the next arrives, so the picture
reaches the viewer one frame plus at most that long after the camera sent it. Times are the stream's own,
counted from its first frame; a stream that restarts (the camera reconnected, its clock jumped) goes on
one frame later, so the viewer's timeline never goes back. New SPS/PPS (a new resolution) bring a new init
segment, as MSE expects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from fractions import Fraction

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ingest.fmp4 import TIMESCALE, Sample, fragment, init_segment, length_prefixed
from ingest.live_hub import FrameListener, LiveFrame, LiveHub
from ingest.parameter_sets import ParameterSets, annexb_units, picture_size

log = logging.getLogger(__name__)
FRAGMENT_SECONDS = 0.5
QUEUE_FRAMES = 120  # as a WebRTC viewer's: past it, frames are dropped up to the next keyframe
SILENCE_SECONDS = 10.0  # no frame for this long (the camera is away): the stream ends, the client may ask again
MAX_STEP = 5 * TIMESCALE  # a step between frames longer than this is a restart, not a slow camera
DEFAULT_STEP = TIMESCALE // 15


class _Frames(FrameListener):
    """The hub's frames for one stream, with room for one more item: the end."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.queue: asyncio.Queue[LiveFrame | None] = asyncio.Queue()

    def _put(self, frame: LiveFrame) -> bool:
        if self.queue.qsize() >= QUEUE_FRAMES:
            return False
        self.queue.put_nowait(frame)
        return True

    def end(self) -> None:
        self.queue.put_nowait(None)


class Fragmenter:
    """Frames in, MP4 bytes out (the init segment before the first fragment, and again on new SPS/PPS).
    `size_of` finds a keyframe's picture size (decoding it: not on the event loop)."""

    def __init__(self, size_of: Callable[[ParameterSets, bytes], Awaitable[tuple[int, int] | None]]) -> None:
        self._size_of = size_of
        self._parameters: ParameterSets | None = None
        self._pending: list[tuple[bytes, int, bool]] = []  # (AVCC access unit, ticks, keyframe)
        self._next_time = 0  # the decode time of the first pending frame
        self._origin: int | None = None  # the stream's tick that is time 0 (shifted at a restart)
        self._last = -1
        self._step = DEFAULT_STEP
        self._sequence = 0

    async def add(self, frame: LiveFrame) -> bytes:
        """What `frame` completes: nothing, a fragment, or (a keyframe with new parameter sets) also a new
        init segment after it."""
        data = bytes(frame.packet)
        ticks = self._ticks(frame)
        out = b""
        if self._pending and (frame.is_keyframe or ticks - self._pending[0][1] >= FRAGMENT_SECONDS * TIMESCALE):
            out += self._flush(ticks)
        if frame.is_keyframe:
            found = ParameterSets.from_units(annexb_units(data))
            if found and found != self._parameters:
                size = await self._size_of(found, data)
                if size is None:
                    return out  # an undecodable keyframe: wait for the next
                self._parameters = found
                out += init_segment(found, *size)
        if self._parameters is None:
            return out  # nothing decodable yet
        self._pending.append((length_prefixed(data), ticks, frame.is_keyframe))
        return out

    def _ticks(self, frame: LiveFrame) -> int:
        """The frame's time in ticks from the stream's start, never going back and never jumping."""
        packet = frame.packet
        raw = int((packet.pts or 0) * (packet.time_base or Fraction(1, TIMESCALE)) * TIMESCALE)
        if self._origin is None:
            self._origin = raw
        ticks = raw - self._origin
        if self._last >= 0 and not 0 < ticks - self._last <= MAX_STEP:
            self._origin = raw - (self._last + self._step)  # a restart: go on one frame later
            ticks = self._last + self._step
        elif self._last >= 0:
            self._step = ticks - self._last
        self._last = ticks
        return ticks

    def _flush(self, until: int) -> bytes:
        """The pending frames as one fragment; `until` is the time of the frame after them."""
        times = [ticks for _, ticks, _ in self._pending] + [until]
        samples = [Sample(data, times[i + 1] - ticks, keyframe)
                   for i, (data, ticks, keyframe) in enumerate(self._pending)]
        self._sequence += 1
        out = fragment(self._sequence, times[0], samples)
        self._pending.clear()
        return out


async def keyframe_size(parameter_sets: ParameterSets, keyframe: bytes) -> tuple[int, int] | None:
    return await asyncio.to_thread(picture_size, parameter_sets, keyframe, None)


async def live_mp4(hub: LiveHub, ended: asyncio.Event) -> AsyncGenerator[bytes, None]:
    """The hub's pictures as fragmented MP4 until `ended` is set, or no frame came for SILENCE_SECONDS."""
    frames = _Frames(asyncio.get_running_loop())
    fragmenter = Fragmenter(keyframe_size)
    stop = asyncio.create_task(ended.wait())
    stop.add_done_callback(lambda _: frames.end())
    hub.subscribe(frames)
    try:
        while True:
            try:
                frame = await asyncio.wait_for(frames.queue.get(), SILENCE_SECONDS)
            except TimeoutError:
                log.info("live stream ended: no picture for %.0f s", SILENCE_SECONDS)
                return
            if frame is None:
                return
            if chunk := await fragmenter.add(frame):
                yield chunk
    finally:
        hub.unsubscribe(frames)
        stop.cancel()


class LiveResponse(StreamingResponse):
    """A never-ending stream whose `on_close` runs however it ends: its own end, the client leaving, or the
    server cancelling it at shutdown (Starlette would leave the generator to the garbage collector)."""

    body_iterator: AsyncGenerator[bytes, None]
    media_type = "video/mp4"

    def __init__(self, content: AsyncGenerator[bytes, None], on_close: Callable[[], Awaitable[None]],
                 headers: dict[str, str]) -> None:
        super().__init__(content, headers={**headers, "Cache-Control": "no-store"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled request's cleanup must still run (and audit)
                await self.body_iterator.aclose()
                await self._on_close()
