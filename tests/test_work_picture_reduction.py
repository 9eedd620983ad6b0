"""A recorder writes the work picture straight into its shared-memory slot (`reduce_luma(..., out=slot)`):
whatever the camera's size, the slot must hold exactly the picture detection would have made itself, along
each path of the reduction (halvings only, halvings and a last resize, a resize alone, an enlargement, none)."""

from __future__ import annotations

import numpy as np
import pytest

from detect.frames import reduce_luma

WORK = (160, 90)


@pytest.mark.parametrize(("width", "height"),
                         [(640, 360), (1920, 1080), (704, 576), (352, 288), (160, 90), (96, 64)])
def test_the_slot_holds_the_same_work_picture_as_a_new_array(width: int, height: int) -> None:
    y = np.random.default_rng(width * height).integers(0, 256, (height, width), dtype=np.uint8)
    slot = np.full((WORK[1], WORK[0]), 77, np.uint8)
    written = reduce_luma(y, WORK, out=slot)
    assert written is slot
    assert np.array_equal(slot, reduce_luma(y, WORK))
    if (width, height) == WORK:
        assert np.array_equal(slot, y)


def test_a_view_of_the_decoders_buffer_is_reduced_as_its_copy() -> None:
    """The Y plane comes as a strided view (line size wider than the picture)."""
    rows = np.random.default_rng(1).integers(0, 256, (360, 704), dtype=np.uint8)
    view = rows[:, :640]
    slot = np.zeros((WORK[1], WORK[0]), np.uint8)
    reduce_luma(view, WORK, out=slot)
    assert np.array_equal(slot, reduce_luma(np.ascontiguousarray(view), WORK))
