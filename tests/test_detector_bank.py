"""Detector bank edges that the scenario corpus does not reach."""

from __future__ import annotations

import numpy as np
import pytest

from detect.background import neighbour_pairs
from detect.bank import DetectorBank
from detect.settings import CameraDetectSettings
from detect.workspace import Workspace


def test_a_camera_still_connecting_is_not_video_loss_but_one_that_stops_is() -> None:
    bank = DetectorBank()
    bank.add_camera("connecting", CameraDetectSettings())
    bank.add_camera("stops", CameraDetectSettings())
    picture = np.random.default_rng(1).integers(40, 200, (360, 640), dtype=np.uint8)
    bank.submit("stops", picture, None, 100.0)
    assert not [o for o in bank.tick(100.0) if o.video_loss]
    lost = [o for o in bank.tick(106.0) if o.video_loss]
    assert [(o.camera, o.t) for o in lost] == [("stops", 100.0)]


def test_noise_pixels_are_not_pairs_and_cameras_do_not_pair_with_each_other() -> None:
    foreground = np.zeros((2 * 90, 160), np.uint8)
    foreground[10:12, 20:22] = 255  # a 2x2 block in camera 0: 4 pairs
    foreground[40, 40] = foreground[42, 44] = 255  # lone pixels
    foreground[89, 70] = foreground[90, 70] = 255  # camera 0's last row above camera 1's first
    assert neighbour_pairs(foreground.reshape(2, 90, 160), Workspace()).tolist() == [4, 0]


def test_a_removed_camera_leaves_the_others_state_where_it_was() -> None:
    """Removing a camera moves the last camera into its slot; what that camera learnt moves with it (the
    removed one, never fed, had learnt nothing)."""
    bank = DetectorBank()
    for name in ("a", "b", "c"):
        bank.add_camera(name, CameraDetectSettings())
    rng = np.random.default_rng(2)
    scene = rng.integers(40, 200, (360, 640), dtype=np.uint8)
    for index in range(30):
        t = index / 15
        for name in ("b", "c"):
            bank.submit(name, np.clip(scene + rng.normal(0, 2, scene.shape), 0, 255).astype(np.uint8), None, t)
        bank.tick(t)
    bank.remove_camera("a")
    t = 30 / 15
    bank.submit("c", scene, None, t)
    (seen,) = bank.tick(t)
    assert seen.camera == "c"
    assert not seen.global_change  # neither a first frame (what slot 0 held for "a") nor a rebuilt background
    slot = bank._cameras["c"].slot
    assert slot == 0 and bank._table.noise[slot] > 0 and bank._table.threshold[slot] >= 0, "its noise came along"


def test_the_camera_table_declares_every_column_it_makes() -> None:
    from detect.camera_table import _COLUMNS, CameraTable

    assert set(CameraTable.__annotations__) == set(_COLUMNS)


def test_a_workspace_array_is_the_same_memory_each_time_and_grows() -> None:
    space = Workspace()
    first = space.array("difference", (2, 90, 160))
    again = space.array("difference", (1, 90, 160))
    assert np.shares_memory(first, again) and again.shape == (1, 90, 160)
    assert not np.shares_memory(first, space.array("mask", (2, 90, 160)))
    grown = space.array("difference", (5, 90, 160))
    assert grown.shape == (5, 90, 160) and not np.shares_memory(first, grown)
    assert np.shares_memory(space.array("difference", (3, 90, 160)), grown)
    floats = space.array("background", (3, 4), np.float32)
    assert floats.dtype == np.float32 and floats.shape == (3, 4)
    with pytest.raises(ValueError, match="two arrays under one name"):
        space.array("background", (3, 4), np.uint8)


def test_workspace_take_rows_copies_the_rows_asked_for() -> None:
    stack = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    picked = Workspace().take_rows("picked", stack, np.array([4, 1]))
    assert picked.tolist() == stack[[4, 1]].tolist() and not np.shares_memory(picked, stack)


@pytest.mark.parametrize("skipping", [False, True], ids=["every camera every tick", "a third of them skip each tick"])
def test_a_busy_tick_makes_no_new_stacks_of_pictures(skipping: bool) -> None:
    """Per-tick temporaries the size of all the cameras' pictures are workspace arrays: allocated afresh, the
    memory went back to the system after each tick and was faulted in again (a third of the bank's cost on a
    busy scene with 16 cameras). With cameras skipping ticks, the tick works on copies of table rows."""
    import tracemalloc

    cameras = 16
    bank = DetectorBank()
    for k in range(cameras):
        bank.add_camera(f"c{k}", CameraDetectSettings())
    rng = np.random.default_rng(3)
    scene = rng.integers(60, 180, (90, 160), dtype=np.uint8)  # at work size: no reduction on submit
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    peaks, moving = [], 0
    try:
        for index in range(60):
            for k in range(cameras):
                if skipping and (k + index) % 3 == 0:
                    continue
                picture = scene + rng.integers(0, 3, scene.shape, dtype=np.uint8)
                left = (5 * index + 2 * k) % 140
                picture[25:40, left:left + 15] = 250  # a block crossing every camera's picture
                bank.submit(f"c{k}", picture, None, index / 15)
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            observations = bank.tick(index / 15)
            if index >= 30:  # background, noise and tracks learnt; upkeep falls in this stretch too
                peaks.append(tracemalloc.get_traced_memory()[1] - before)
                moving += sum(1 for observation in observations if observation.boxes)
    finally:
        if started:
            tracemalloc.stop()
    assert moving >= 15 * cameras, "the block is tracked"
    stack = cameras * 160 * 90
    assert sorted(peaks)[len(peaks) // 2] < stack / 2  # before the workspace: 1.9 MB
    assert max(peaks) < 2 * stack  # the upkeep's tamper features, a few coarse (32x18) floats per camera
