"""A catalog that cannot be read at start (a damaged file; a district's PostgreSQL away at boot): the station
exited, and recorded nothing until someone mended it. Now the cameras record and their rows wait."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from storage.index import RecordingIndex
from tests.conftest import wait_for
from tests.support.media import encode_video
from tests.support.rtsp import free_port
from tests.test_crash_recovery import start_nvr, write_config


def test_a_damaged_catalog_at_start_stops_no_recording_and_loses_no_row(tmp_path: Path) -> None:
    camera = encode_video(tmp_path / "camera.mp4", seconds=10)
    config = write_config(tmp_path, free_port(), f"file://{camera}")
    data, log = tmp_path / "data", tmp_path / "nvr.log"
    catalog = data / "nvr.db"

    def files() -> set[str]:
        return {p.relative_to(data / "segments").as_posix() for p in (data / "segments").rglob("*.mp4")}

    def indexed() -> set[str]:
        index = RecordingIndex(f"sqlite:///{catalog}", "post-1", migrate=False)
        try:
            return {segment.path for segment in index.all_segments()}
        except SQLAlchemyError:  # not made yet
            return set()
        finally:
            index.close()

    @contextmanager
    def running(stop: signal.Signals = signal.SIGTERM) -> Iterator[None]:
        process = start_nvr(config, log)
        try:
            yield
        finally:
            process.send_signal(stop)
            process.wait(30)
        assert process.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]

    # the terminal it was started from closed: it ended at once, saying nothing, and the log is the station's record
    with running(signal.SIGHUP):
        wait_for(lambda: len(indexed()) >= 2, 30, "footage indexed")
    assert "stopping (SIGHUP)" in log.read_text() and "stopped; every open segment was closed" in log.read_text()
    good = catalog.read_bytes()
    with catalog.open("r+b") as damaged:
        damaged.write(bytes(100))  # its header gone: "file is not a database"
    before = files()
    with running():
        wait_for(lambda: len(files() - before) >= 3, 30, "recording with the catalog damaged")
    text = log.read_text()
    assert "the catalog does not answer at start (file is not a database)" in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    recorded_meanwhile = files() - before
    catalog.write_bytes(good)  # mended: restored from a copy
    with running():
        wait_for(lambda: recorded_meanwhile <= indexed(), 30, "what was recorded meanwhile indexed")
