"""The station id: configured, or derived once and kept in the data folder so it survives restarts."""

from __future__ import annotations

import threading
from pathlib import Path

from nvr.config import CAMERA_NAME, parse_config
from nvr.station_identity import ID_FILE, derive_station_id, station_id


def test_a_derived_id_is_url_safe_and_tells_boxes_with_one_host_name_apart() -> None:
    for hostname in ("CA-Phuong-Ben-Nghe.local", "công an", "", "x" * 200, "--__--"):
        derived = derive_station_id(hostname)
        assert CAMERA_NAME.match(derived), derived
    assert derive_station_id("CA-Phuong-Ben-Nghe.local").startswith("ca-phuong-ben-nghe-local-")
    assert derive_station_id("").startswith("station-")
    assert derive_station_id("box") != derive_station_id("box")


def test_the_derived_id_is_stored_once_and_kept(tmp_path: Path) -> None:
    config = parse_config("cameras: []\n", base=tmp_path)
    first = station_id(config)
    assert (config.data_dir / ID_FILE).read_text().strip() == first
    assert station_id(parse_config("cameras: []\n", base=tmp_path)) == first, "a restart keeps the id"


def test_boxes_starting_at_once_agree_on_one_id(tmp_path: Path) -> None:
    config = parse_config("cameras: []\n", base=tmp_path)
    start = threading.Barrier(8)
    found: list[str] = []

    def first_start() -> None:
        start.wait(10)
        found.append(station_id(config))

    threads = [threading.Thread(target=first_start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(found) == 8 and len(set(found)) == 1
    assert sorted(p.name for p in config.data_dir.iterdir()) == [ID_FILE], "no temporary file is left behind"


def test_a_configured_id_and_title_are_used_as_given(tmp_path: Path) -> None:
    config = parse_config("station: {id: ca-ben-nghe, title: 'Công an phường Bến Nghé'}\n", base=tmp_path)
    assert station_id(config) == "ca-ben-nghe"
    assert config.station.title == "Công an phường Bến Nghé"
    assert not (config.data_dir / ID_FILE).exists()
