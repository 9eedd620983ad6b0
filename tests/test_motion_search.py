"""Motion search: the bank's grid of where motion was, the drawn area's cells, the catalog's minutes, the
search's ranges, and a live station whose served scene is found where the motorbike crosses and nowhere else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from detect.bank import DetectorBank
from detect.motion_grid import COLUMNS, ROWS, MotionSecond, area_cells, cell_list
from detect.settings import CameraDetectSettings
from nvr.motion_search import motion_per_cell, search_motion
from nvr.motion_writer import MotionGridWriter
from storage.clock import now_ms
from storage.index import RecordingIndex
from storage.motion_grids import MotionGridStore
from tests.conftest import station_config, wait_for
from tests.support.rtsp import RtspServer

EVERYWHERE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
T0 = 1_790_000_000  # a whole second of wall-clock time


def grid(*cells: tuple[int, int]) -> bytes:
    """A packed grid with these (column, row) cells set."""
    bits = np.zeros((ROWS, COLUMNS), bool)
    for column, row in cells:
        bits[row, column] = True
    return np.packbits(bits).tobytes()


def test_an_object_moving_in_the_top_left_sets_only_top_left_cells_and_noise_and_masks_set_none() -> None:
    """Three cameras see the same textured wall with sensor noise; on two of them a bright box moves along the
    top left, and one of those masks that corner. Only the unmasked one reports cells, only in the top left,
    once per wall-clock second."""
    bank = DetectorBank()
    bank.add_camera("moving", CameraDetectSettings(overlay="off"))
    bank.add_camera("quiet", CameraDetectSettings(overlay="off"))
    bank.add_camera("masked", CameraDetectSettings(overlay="off", masks=(((0, 0), (0.5, 0), (0.5, 0.5), (0, 0.5)),)))
    rng = np.random.default_rng(3)
    wall = cv2.GaussianBlur(rng.integers(60, 180, (360, 640)).astype(np.uint8), (0, 0), 3)
    for index in range(6 * 15):
        t = T0 + index / 15
        for name in ("moving", "quiet", "masked"):
            picture = np.clip(wall + rng.normal(0, 2, wall.shape), 0, 255).astype(np.uint8)
            if name != "quiet" and index >= 30:  # 50x40 source pixels crossing x 20..260, y 40..90
                left = 20 + (index - 30) * 3
                picture[40:90, left:left + 40] = 240
            bank.submit(name, picture, None, t)
        bank.tick(t)
    bank.finish_seconds()
    seconds = bank.motion_seconds()
    assert bank.motion_seconds() == [], "handed over once"
    assert {s.camera for s in seconds} == {"moving"}
    assert [s.second for s in seconds] == sorted({s.second for s in seconds})
    assert seconds[0].second == T0 + 2 and seconds[-1].second == T0 + 5
    cells = {cell for s in seconds for cell in cell_list(s.cells)}
    # the box covers work pixels x 5..65, y 10..22: columns 0..6, rows 1..2 (a 10x10 cell each)
    assert cells and all(column <= 6 and 1 <= row <= 2 for column, row in cells), cells
    assert {(0, 1), (3, 2), (5, 1)} <= cells


def test_a_cell_moves_from_five_foreground_pixels_of_its_hundred_inside_a_moving_box() -> None:
    from detect.motion_grid import MotionGrid
    from detect.regions import Blob
    from detect.workspace import Workspace

    rng = np.random.default_rng(4)
    foreground = np.where(rng.random((64, 90, 160)) < rng.uniform(0, 0.12, (64, 1, 1)), 255, 0).astype(np.uint8)
    counts = foreground.reshape(64, ROWS, 10, COLUMNS, 10).astype(int).sum(axis=(2, 4)) // 255
    whole_picture = [[Blob(0, 0, 160, 90, 1, 1)]] * 64
    cells = MotionGrid((160, 90)).cells(foreground, whole_picture, Workspace())
    assert np.array_equal(np.unpackbits(cells, axis=1).reshape(counts.shape), counts >= 5)
    left_box = [[Blob(0, 0, 31, 90, 1, 1)]] * 64  # touches columns 0..3 only
    cells = MotionGrid((160, 90)).cells(foreground, left_box, Workspace())
    assert np.array_equal(np.unpackbits(cells, axis=1).reshape(counts.shape),
                          (counts >= 5) & (np.arange(COLUMNS) <= 3))


def test_a_drawn_area_takes_the_cells_it_covers() -> None:
    top_left_quarter = ((0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5))
    # rows 0..3 whole, row 4 (y 0.444..0.556) half: taken (a quarter is enough)
    assert cell_list(area_cells(top_left_quarter)) == [(c, r) for r in range(5) for c in range(8)]
    assert cell_list(area_cells(EVERYWHERE)) == [(c, r) for r in range(ROWS) for c in range(COLUMNS)]
    inside_one_cell = ((0.52, 0.57), (0.56, 0.57), (0.54, 0.62))  # well inside cell (8, 5), a tenth of it
    assert cell_list(area_cells(inside_one_cell)) == [(8, 5)]
    with pytest.raises(ValueError, match="encloses no part"):
        area_cells(((0.1, 0.1), (0.9, 0.9), (0.5, 0.5)))  # a line


@pytest.fixture
def store(database_url: str) -> Iterator[MotionGridStore]:
    index = RecordingIndex(database_url, "post")
    yield MotionGridStore(index)
    index.close()


def test_seconds_are_kept_per_minute_merged_and_searched_in_ranges(store: MotionGridStore) -> None:
    minute = T0 - T0 % 60
    store.add([MotionSecond("a", minute + 58, grid((0, 0))), MotionSecond("a", minute + 59, grid((15, 8))),
               MotionSecond("a", minute + 61, grid((15, 8))), MotionSecond("b", minute + 59, grid((1, 1)))])
    store.add([MotionSecond("a", minute + 59, grid((0, 0))), MotionSecond("a", minute + 70, grid((15, 8)))])
    found = store.grids("a", 0, 2**62)
    assert found.seconds.tolist() == [minute + 58, minute + 59, minute + 61, minute + 70]
    assert [cell_list(c) for c in found.cells] == [[(0, 0)], [(0, 0), (15, 8)], [(15, 8)], [(15, 8)]]
    assert store.grids("a", (minute + 59) * 1000 + 500, (minute + 61) * 1000).seconds.tolist() == [minute + 59]

    bottom_right = area_cells(((0.9, 0.9), (1.0, 0.9), (1.0, 1.0), (0.9, 1.0)))
    result = search_motion(store, "a", 0, 2**62, bottom_right, limit=10)
    # 59 and 61 are one quiet second apart: one range; 70 is alone; 58 moved elsewhere
    assert [(r.start_ms // 1000 - minute, r.end_ms // 1000 - minute, cell_list(r.cells)) for r in result.ranges] == \
        [(59, 62, [(15, 8)]), (70, 71, [(15, 8)])]
    assert not result.truncated and result.elapsed > 0
    first = search_motion(store, "a", (minute + 60) * 1000, 2**62, area_cells(EVERYWHERE), limit=1)
    assert [(r.start_ms, r.end_ms) for r in first.ranges] == [((minute + 61) * 1000, (minute + 62) * 1000)]
    assert first.truncated
    assert search_motion(store, "b", 0, 2**62, bottom_right, limit=10).ranges == []


def test_a_flush_changes_only_the_minutes_it_holds_of_each_camera(store: MotionGridStore) -> None:
    """The stored minutes are looked up by the cameras and the minutes a flush holds: another camera's row of one of
    those minutes comes back too, and is left as it is."""
    minute = T0 - T0 % 60
    store.add([MotionSecond(camera, minute + offset, grid((0, 0))) for camera in ("a", "b") for offset in (5, 65)])
    store.add([MotionSecond("a", minute + 6, grid((15, 8))), MotionSecond("b", minute + 66, grid((15, 8)))])
    assert store.grids("a", 0, 2**62).seconds.tolist() == [minute + 5, minute + 6, minute + 65]
    assert store.grids("b", 0, 2**62).seconds.tolist() == [minute + 5, minute + 65, minute + 66]


def test_the_seconds_each_cell_moved_are_counted_within_the_window(store: MotionGridStore,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """What the detection areas page shades: per cell, the seconds it moved (`motion_per_cell`), counted a chunk of
    seconds at a time."""
    store.add([MotionSecond("a", T0, grid((0, 0), (15, 8))), MotionSecond("a", T0 + 1, grid((0, 0))),
               MotionSecond("a", T0 + 90, grid((0, 0))), MotionSecond("b", T0 + 1, grid((3, 3)))])
    for chunk in (86_400, 1):
        monkeypatch.setattr("nvr.motion_search.CHUNK_SECONDS", chunk)
        seconds, cells = motion_per_cell(store, "a", T0 * 1000, (T0 + 60) * 1000)
        assert seconds == 2 and cells[0, 0] == 2 and cells[8, 15] == 1 and cells.sum() == 3
        assert motion_per_cell(store, "a", 0, 2**62)[1][0, 0] == 3
        assert motion_per_cell(store, "c", 0, 2**62)[0] == 0


class FlakyStore(MotionGridStore):
    """The real store, behind a database that fails its first write."""

    failures = 1

    def add(self, seconds: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("database away")
        super().add(seconds)


def test_the_writer_keeps_what_a_failed_batch_held_and_never_waits(tmp_path: Path) -> None:
    index = RecordingIndex(f"sqlite:///{tmp_path / 'index.db'}", "post")
    writer = MotionGridWriter(FlakyStore(index), flush_seconds=0.05)
    writer.start()
    started = time.monotonic()
    writer.put([MotionSecond("a", T0, grid((3, 3)))])
    assert time.monotonic() - started < 0.05
    wait_for(lambda: len(MotionGridStore(index).grids("a", 0, 2**62).seconds), 5, "the second, after a failure")
    writer.put([MotionSecond("a", T0 + 1, grid((4, 4)))])
    writer.stop()
    assert MotionGridStore(index).grids("a", 0, 2**62).seconds.tolist() == [T0, T0 + 1]
    index.close()


# ---------------------------------------------------------------------------------------------- a live station

PATH = [[0.0, 0.55], [1.0, 0.55], [1.0, 0.9], [0.0, 0.9]]  # the road, where the motorbike crosses (y 0.59..0.83)
UPPER = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.45], [0.0, 0.45]]  # the shop fronts and the sky, with the camera's clock


def test_a_search_finds_the_motorbike_on_its_path_and_nothing_elsewhere(scene_cameras: RtspServer, tmp_path: Path,
                                                                         make_station) -> None:
    config = station_config(tmp_path, [{"name": "cua-hang", "record_url": scene_cameras.url("xe-may")},
                                       {"name": "hem-4", "record_url": scene_cameras.url("yen-tinh")}])
    started = now_ms()
    station, client = make_station(config)

    def search(camera: str, area: list[list[float]], **headers: str) -> Any:
        return client.post(f"/api/cameras/{camera}/motion-search", headers=headers,
                           json={"start": started / 1000 - 60, "end": str(time.time() + 60), "area": area})

    event = wait_for(lambda: [e for e in client.get("/api/events?camera=cua-hang&type=motion").json()
                              if e["end_ms"] is not None], 60, "the motorbike's motion event to end")[0]

    def crossing() -> list[dict[str, Any]]:
        answer = search("cua-hang", PATH)
        assert answer.status_code == 200, answer.text
        ranges: list[dict[str, Any]] = answer.json()["ranges"]
        return ranges if ranges and ranges[-1]["end_ms"] >= event["end_ms"] else []

    found = wait_for(crossing, 10, "the whole crossing in the motion grids")
    assert len(found) == 1, found
    (bike,) = found
    assert bike["start_ms"] < event["end_ms"] and event["start_ms"] < bike["end_ms"], (bike, event)
    assert 1000 <= bike["end_ms"] - bike["start_ms"] <= 8000
    assert bike["cells"] and all(5 <= row <= 7 for _column, row in bike["cells"]), bike["cells"]
    columns = {column for column, _row in bike["cells"]}  # end to end (under load a second may go unanalysed)
    assert min(columns) <= 2 and max(columns) >= 13, ("along the road", columns)

    upper = search("cua-hang", UPPER).json()
    assert upper["ranges"] == [] and upper["area_cells"] == [[c, r] for r in range(4) for c in range(16)]
    assert search("hem-4", [list(p) for p in EVERYWHERE]).json()["ranges"] == [], "nothing moves in the alley"
    assert station.audit.entries(start_ms=started, end_ms=2**62, action="motion_search", camera="hem-4")

    station.accounts.add("nha-5", "household-pass", "viewer")
    station.accounts.grant("nha-5", ["hem-4"])
    viewer = client.post("/api/auth/login", json={"username": "nha-5", "password": "household-pass"}).json()["token"]
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    assert search("cua-hang", PATH, **as_viewer).status_code == 404, "a camera it may not see"
    assert search("hem-4", PATH, **as_viewer).status_code == 200

    for area, message in (([[0.1, 0.1], [0.5, 0.5]], "area: a polygon needs at least 3 points"),
                          ([[0.1, 0.1], [1.5, 0.5], [0.2, 0.9]], "area: polygon points must be normalized"),
                          ([[0.1, 0.1], [0.9, 0.9], [0.5, 0.5]], "area: the polygon encloses no part")):
        refused = search("cua-hang", area)
        assert refused.status_code == 400 and refused.json()["detail"].startswith(message), refused.text
    reversed_range = client.post("/api/cameras/cua-hang/motion-search",
                                 json={"start": "2026-11-28T10:00:00", "end": "2026-11-28T09:00:00", "area": PATH})
    assert reversed_range.status_code == 400 and "end must be after start" in reversed_range.json()["detail"]
    too_long = client.post("/api/cameras/cua-hang/motion-search",
                           json={"start": "2026-10-01T00:00:00", "end": "2026-11-28T00:00:00", "area": PATH})
    assert too_long.status_code == 400 and too_long.json()["detail"] == "the range is longer than the limit of 31 days"
    bad_time = client.post("/api/cameras/cua-hang/motion-search", json={"start": "inf", "end": "1", "area": PATH})
    assert bad_time.status_code == 400 and bad_time.json()["detail"].startswith("start: ")
