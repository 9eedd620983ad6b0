"""Case export: a case of 4 cameras x 10 minutes of 1080p (1-minute segments, each hashed as recorded) to a
signed ZIP, against `ffmpeg -c copy` of the same ranges to files plus `sha256sum` of the results, in the
same run. Ours also re-hashes every segment it reads (the custody check), writes the captions track, the
player and the signed manifest. Prints one JSON line."""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.footage import build_segments, concat_listing
from benchmarks.media import camera_minute_1080p
from nvr.evidence.export import CameraInfo, ExportSource, build_export
from nvr.evidence.signing import StationKey
from nvr.evidence.verify import verify_export
from storage.cases import Case, CaseStore, NewItem
from storage.index import RecordingIndex, Segment
from storage.leases import SegmentLeases

START_MS = 1_795_000_000_000
CAMERAS, MINUTES, ROUNDS = 4, 10, 2


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def time_ours(source: ExportSource, case: Case, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds to the finished ZIP."""
    cpu, began = cpu_seconds(resource.RUSAGE_SELF), time.perf_counter()
    build_export(source, case, "bench", out)
    return time.perf_counter() - began, cpu_seconds(resource.RUSAGE_SELF) - cpu


def time_ffmpeg(segments_dir: Path, recorded: dict[str, list[Segment]], case: Case, work: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `ffmpeg -c copy` of each item's range to a file, then `sha256sum` of them all."""
    cpu, began = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
    outputs = []
    for item in case.items:
        listing = concat_listing(segments_dir, recorded[item.camera], item.start_ms, item.end_ms,
                                 work / f"{item.camera}.ffconcat")
        outputs.append(str(work / f"{item.camera}.mp4"))
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                        "-c", "copy", outputs[-1]], check=True)
    subprocess.run(["sha256sum", *outputs], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def main() -> None:
    logging.disable(logging.WARNING)
    minute = camera_minute_1080p()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        segments_dir = work / "segments"
        index = RecordingIndex(f"sqlite:///{work / 'index.db'}", "bench")
        recorded = {f"cam{n}": build_segments(minute, segments_dir, index, f"cam{n}", MINUTES, START_MS)
                    for n in range(CAMERAS)}
        items = [NewItem(camera, segments[0].start_ms, segments[-1].end_ms) for camera, segments in recorded.items()]
        case = CaseStore(index).create("benchmark", "", items, "bench")
        source = ExportSource("bench", "Benchmark", ZoneInfo("Asia/Ho_Chi_Minh"), StationKey.load_or_create(work),
                              segments_dir, index.segments, lambda _name, _at: CameraInfo("", ""), SegmentLeases())
        out = work / "case.zip"
        ours, theirs = [], []
        for _round in range(ROUNDS):  # alternating, so that neither contender has the page cache to itself
            theirs.append(time_ffmpeg(segments_dir, recorded, case, work))
            ours.append(time_ours(source, case, out))
        verdict = verify_export(out)
        assert verdict.ok, verdict.failure
        size = out.stat().st_size
        index.close()
    best_ours, best_theirs = min(ours), min(theirs)
    print(json.dumps({
        "benchmark": "export",
        "input": f"{CAMERAS} cameras x {MINUTES} minutes of 1920x1080@15 H.264 ~4 Mbit/s in 1-minute segments",
        "zip_mb": round(size / 1e6, 1),
        "time_to_zip_s": round(best_ours[0], 3),
        "cpu_s": round(best_ours[1], 3),
        "ffmpeg_copy_and_sha256sum_s": round(best_theirs[0], 3),
        "ffmpeg_copy_and_sha256sum_cpu_s": round(best_theirs[1], 3),
        "ratio_to_ffmpeg": round(best_ours[0] / best_theirs[0], 2),
        "rounds": {"ours_s": [round(w, 3) for w, _ in ours], "ffmpeg_s": [round(w, 3) for w, _ in theirs]},
        "targets": {"ratio_to_ffmpeg": 1.0},
    }))


if __name__ == "__main__":
    main()
