"""What the district's live relay holds from a post is bounded: a box announcing gigabytes is refused, and the
fragments kept for new viewers stop growing when no keyframe comes."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from ingest.fmp4 import MAX_BOX, BoxReader
from nvr.district import live_relay
from nvr.district.live_relay import Upstream


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def test_a_box_announcing_more_than_a_live_fragment_holds_is_refused() -> None:
    reader = BoxReader()
    assert [kind for kind, _ in reader.feed(box(b"moof", b"x" * 10))] == [b"moof"]
    with pytest.raises(ValueError, match="a box of"):
        list(reader.feed(struct.pack(">I4s", MAX_BOX + 1, b"mdat")))


def test_the_fragments_held_for_new_viewers_stop_growing_without_a_keyframe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_relay, "MAX_GOP_BYTES", 10_000)
    keyframes = iter([True] + [False] * 1000)
    monkeypatch.setattr(live_relay, "starts_with_keyframe", lambda _moof: next(keyframes))

    class Answer:
        async def aiter_raw(self) -> AsyncIterator[bytes]:
            yield box(b"ftyp") + box(b"moov")
            for _ in range(1000):  # a keyframe, then fragments that never bring another
                yield box(b"moof", b"m" * 16) + box(b"mdat", b"d" * 1000)

    upstream = object.__new__(Upstream)
    upstream.viewers, upstream._init, upstream._gop, upstream._gop_bytes = set(), b"", [], 0
    held = []
    real_publish = Upstream._publish

    def publish(self: Upstream, chunk: bytes, keyframe: bool, init: bool = False) -> None:
        held.append(sum(map(len, self._gop)))
        real_publish(self, chunk, keyframe, init)

    monkeypatch.setattr(Upstream, "_publish", publish)
    asyncio.run(upstream._relay(Answer()))  # type: ignore[arg-type]
    assert max(held) <= 10_000 + 1100 and upstream._gop == []
