"""`nvr clip`: the same clip as the API, written to a file, with a progress bar for long ranges."""

from __future__ import annotations

import sys
from pathlib import Path

import av

from nvr.config import Config
from nvr.logs import setup_logging
from nvr.station_identity import station_id
from nvr.times import TimeFormatError, parse_instant
from storage.camera_store import CameraStore
from storage.clips import plan_clip, write_clip
from storage.index import RecordingIndex

BAR_WIDTH = 30


def _progress(done_ms: int, total_ms: int) -> None:
    share = min(1.0, done_ms / total_ms) if total_ms else 1.0
    filled = round(share * BAR_WIDTH)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%} "
                     f"{done_ms / 1000:.0f}/{total_ms / 1000:.0f} s")
    sys.stderr.flush()


def cut_clip(config: Config, camera: str, start: str, end: str, output: Path) -> int:
    instants = []
    for name, text in (("start", start), ("end", end)):
        try:
            instants.append(parse_instant(text, config.zone))
        except TimeFormatError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            return 2
    start_ms, end_ms = instants
    if end_ms <= start_ms:
        print("end must be after start", file=sys.stderr)
        return 2
    if not output.absolute().parent.is_dir() or output.is_dir():
        print(f"cannot write {output}: " + ("it is a folder" if output.is_dir() else
                                            f"the folder {output.absolute().parent} does not exist"), file=sys.stderr)
        return 2
    index = RecordingIndex(config.database_url, station_id(config))
    try:
        if config.camera(camera) is None and CameraStore(index).get(camera) is None:  # removed ones have footage
            print(f"no camera named {camera!r}", file=sys.stderr)
            return 2
        plan = plan_clip(index.segments(camera, start_ms, end_ms), start_ms, end_ms)
    finally:
        index.close()
    if plan is None:
        print(f"no footage of {camera} between {start} and {end}", file=sys.stderr)
        return 1
    setup_logging("WARNING", "\n%(message)s")  # a warning (a damaged segment left out) below the progress bar
    try:
        written = write_clip(plan, config.segments_dir, str(output), progress=_progress)
    except (OSError, av.FFmpegError) as exc:  # no permission, a full disk, a folder removed meanwhile
        print(f"\ncannot write {output}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    sys.stderr.write("\n")
    print(f"{output}: {written / 1000:.1f} s of {camera}")
    return 0
