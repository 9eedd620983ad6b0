"""Detector bank edges that the scenario corpus does not reach."""

from __future__ import annotations

import numpy as np

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
