"""A camera's detection areas as an administrator draws them: where it saw motion lately (the motion grids, per
cell: `tests/test_motion_search.py` counts them), its zones and masks read and set, a bad polygon refused by name,
and only detection restarted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer
from tests.test_cameras_at_run_time import as_admin
from tests.test_motion_search import PATH


def test_an_admin_sees_where_the_camera_moved_and_masks_it_without_cutting_its_recording(
        scene_cameras: RtspServer, tmp_path: Path, make_station) -> None:
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")}])
    station, client = make_station(config)
    operator = dict(client.headers)
    as_admin(client)
    wait_for(lambda: [e for e in client.get("/api/events?camera=cua-hang&type=motion").json()
                      if e["end_ms"] is not None], 60, "the motorbike's motion event to end")

    def areas() -> dict[str, Any]:
        answer = client.get("/api/cameras/cua-hang/detection-areas", params={"hours": 1})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def along_the_road() -> dict[str, Any]:
        body = areas()
        # end to end: under load a second of the crossing may go unanalysed, its columns left out (a CI run)
        columns = {column for column, _row, _n in body["cells"]}
        return body if columns and min(columns) <= 2 and max(columns) >= 13 else {}

    # the grids' seconds reach the catalog in batches (`MotionGridWriter`): the crossing's last ones may come after
    # its event has ended
    seen = wait_for(along_the_road, 10, "the whole crossing in the motion grids, along the road")
    assert seen["zones"] == [] and seen["masks"] == [] and seen["grid"] == {"columns": 16, "rows": 9}
    assert all(5 <= row <= 7 and 1 <= n <= seen["motion_seconds"] for _c, row, n in seen["cells"])

    since = client.get("/api/cameras/cua-hang").json()["since"]
    masked = client.put("/api/cameras/cua-hang/detection-areas", json={"masks": [PATH]})
    assert masked.status_code == 200, masked.text
    assert masked.json()["masks"] == [PATH] and masked.json()["zones"] == []
    assert areas()["masks"] == [PATH]
    told = station.detection.watched("cua-hang")  # told at once, by the change itself
    assert told is not None and told.masks == (tuple(tuple(p) for p in PATH),)
    # a restart would show within a second (the recorder reads its list at once): two segments on, none
    later_ms = round(time.time() * 1000) + 4000
    wait_for(lambda: station.index.segments("cua-hang", later_ms, 2**62), 15, "the camera recording on")
    assert client.get("/api/cameras/cua-hang").json()["since"] == since, "its streams go on"
    zones = client.put("/api/cameras/cua-hang/detection-areas", json={"zones": [[[0, 0], [1, 0], [1, 1]]]})
    assert zones.json()["masks"] == [PATH], "what is left out is kept"
    entries = station.audit.entries(start_ms=0, end_ms=2**62, action="camera_set", camera="cua-hang")
    assert [e.detail for e in entries][:2] == ["detection areas: zones 1, masks 1",  # newest first
                                               "detection areas: zones 0, masks 1"]

    for body, status, text in (({"masks": [[[0.1, 0.1], [0.5, 0.5]]]}, 400, "a polygon needs at least 3 points"),
                               ({"masks": [[[0.1, 0.1], [1.5, 0.5], [0.2, 0.9]]]}, 400, "normalized to 0..1"),
                               ({"masks": [[[0.5, 0.5]] * 101]}, 422, "at most 100"),
                               ({"mask": [PATH]}, 422, "Extra inputs")):
        refused = client.put("/api/cameras/cua-hang/detection-areas", json=body)
        assert refused.status_code == status and text in refused.text, refused.text
    assert areas()["masks"] == [PATH], "a refused change changes nothing"

    # two administrators at once: a change made from a reading since overtaken is refused, not merged over
    read = areas()["version"]
    assert client.put("/api/cameras/cua-hang/detection-areas", json={"zones": [], "version": read}).status_code == 200
    stale = client.put("/api/cameras/cua-hang/detection-areas", json={"masks": [], "version": read})
    assert stale.status_code == 409 and "changed since they were read" in stale.text, stale.text
    assert areas()["masks"] == [PATH] and areas()["zones"] == []
    assert areas()["version"] != read
    assert client.get("/api/cameras/cua-hang/detection-areas", params={"hours": 0}).status_code == 422
    assert client.get("/api/cameras/nowhere/detection-areas").status_code == 404

    as_operator = client.get("/api/cameras/cua-hang/detection-areas", headers=operator)
    assert as_operator.status_code == 403, "settings are the administrators'"
    assert client.put("/api/cameras/cua-hang/detection-areas", json={"masks": []}, headers=operator).status_code == 403
