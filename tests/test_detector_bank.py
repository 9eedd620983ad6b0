"""Detector bank edges that the scenario corpus does not reach."""

from __future__ import annotations

import numpy as np

from detect.background import neighbour_pairs
from detect.bank import DetectorBank
from detect.settings import CameraDetectSettings


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
    assert neighbour_pairs(foreground.reshape(2, 90, 160)).tolist() == [4, 0]


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
