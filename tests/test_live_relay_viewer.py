"""A district viewer whose browser reads slowly loses fragments up to the next keyframe's, never the picture's
coherence (a fragment after a skipped one would not decode), and never holds up the upstream or its other
viewers; a new init segment always reaches it."""

from __future__ import annotations

from nvr.district.live_relay import VIEWER_FRAGMENTS, Viewer


def drained(viewer: Viewer) -> list[bytes | None]:
    items = []
    while not viewer.queue.empty():
        items.append(viewer.queue.get_nowait())
    return items


def test_a_viewer_that_falls_behind_skips_to_the_next_keyframe() -> None:
    slow, quick = Viewer(), Viewer()
    slow.offer(b"key-0", keyframe=True)
    for n in range(1, VIEWER_FRAGMENTS + 5):
        for viewer in (slow, quick):
            viewer.offer(f"frag-{n}".encode(), keyframe=False)
        drained(quick)  # this one keeps up
    assert slow.queue.qsize() == VIEWER_FRAGMENTS, "held back at its limit, the rest dropped"
    assert drained(slow) == [b"key-0", *(f"frag-{n}".encode() for n in range(1, VIEWER_FRAGMENTS))]

    slow.offer(b"frag-after-the-gap", keyframe=False)  # it caught up, but this one would not decode
    slow.offer(b"key-1", keyframe=True)
    slow.offer(b"frag-next", keyframe=False)
    assert drained(slow) == [b"key-1", b"frag-next"]


def test_a_new_init_segment_and_the_end_always_reach_a_viewer() -> None:
    viewer = Viewer()
    for n in range(VIEWER_FRAGMENTS + 3):
        viewer.offer(f"frag-{n}".encode(), keyframe=n == 0)
    viewer.offer(b"init", keyframe=True, init=True)
    viewer.end()
    items = drained(viewer)
    assert items[-2:] == [b"init", None]
