"""`nvr analyze`: detection over a video file, as a household's footage from a USB stick."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.demo import encode
from tests.support.media import motorbike_scene, onsets

NIGHT_FROM = 12.5


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("usb") / "cua-hang.mp4"
    encode(motorbike_scene(night_from=NIGHT_FROM), path)
    return path


def analyze(*args: str, cwd: Path) -> tuple[int, list[dict], str]:
    done = subprocess.run([sys.executable, "-m", "nvr.cli", "analyze", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_motion_and_the_switch_to_infrared_are_reported_with_file_times(footage: Path, tmp_path: Path) -> None:
    code, lines, stderr = analyze(str(footage), cwd=tmp_path)  # no config.yaml here: default settings
    assert code == 0, stderr
    *events, last = lines
    onset = onsets(motorbike_scene())[0]
    motion = [e for e in events if e["type"] == "motion"]
    assert len(motion) == 1, events
    assert onset - 1.0 <= motion[0]["start"] <= onset + 0.5 and motion[0]["end"] <= 11.5
    assert 0 < motion[0]["score"] <= 1 and motion[0]["boxes"]
    night = [e for e in events if e["type"] == "night_mode"]
    assert len(night) == 1 and NIGHT_FROM <= night[0]["start"] <= NIGHT_FROM + 1.5, events
    assert not [e for e in events if e["type"].startswith("tamper") or e["type"] == "video_loss"], events
    summary = last["summary"]
    assert summary["frames"] == 240 and summary["video_seconds"] == pytest.approx(15.93, abs=0.1)
    assert summary["events"] == len(events) and summary["cpu_seconds"] > 0


def test_a_camera_mask_from_the_config_applies(footage: Path, tmp_path: Path) -> None:
    config = tmp_path / "station.yaml"
    config.write_text("cameras:\n  - name: cua-hang\n    record_url: 'rtsp://10.0.0.5/1'\n"
                      "    detect: {masks: [[[0, 0.5], [1, 0.5], [1, 1], [0, 1]]]}\n")
    code, lines, stderr = analyze(str(footage), "--config", str(config), "--camera", "cua-hang", cwd=tmp_path)
    assert code == 0, stderr
    assert not [e for e in lines[:-1] if e["type"] == "motion"]  # the street is masked


def test_unreadable_and_missing_files_are_clear_errors(footage: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    code, lines, stderr = analyze(str(junk), str(footage), cwd=tmp_path)
    assert code == 1 and "junk.mp4: cannot read the video: Invalid data found when processing input (damaged" in stderr
    assert lines[-1]["summary"]["files"] == 1 and lines[-1]["summary"]["failed"] == 1
    assert lines[:-1] and all(line["file"] == str(footage) for line in lines[:-1])
    code, _, stderr = analyze(str(tmp_path / "nothing.mp4"), cwd=tmp_path)
    assert code == 2 and "no such file" in stderr
    code, _, stderr = analyze(str(tmp_path), cwd=tmp_path)
    assert code == 2 and "a folder, not a video file" in stderr
    code, _, stderr = analyze(str(footage), "--camera", "nobody", cwd=tmp_path)
    assert code == 2 and "config.yaml" in stderr


def test_several_files_are_analysed_side_by_side_each_on_its_own(footage: Path, tmp_path: Path) -> None:
    copies = []
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        copies.append(tmp_path / name)
        copies[-1].symlink_to(footage)
    code, lines, stderr = analyze(*map(str, copies), cwd=tmp_path)
    assert code == 0, stderr
    *events, last = lines
    for copy in copies:  # what one file alone gives (see above), whatever ran beside it
        types = sorted(e["type"] for e in events if e["file"] == str(copy))
        assert types == ["motion", "night_mode"], events
    assert last["summary"]["files"] == 3 and last["summary"]["frames"] == 3 * 240


def test_ctrl_c_ends_the_analysis_of_every_file(footage: Path, tmp_path: Path) -> None:
    copies = []
    for index in range(16):
        copies.append(str(tmp_path / f"{index}.mp4"))
        Path(copies[-1]).symlink_to(footage)
    with subprocess.Popen([sys.executable, "-m", "nvr.cli", "analyze", *copies], cwd=tmp_path, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # the first event: analysis is under way
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=30)
    assert "file" in first and process.returncode == 130 and "interrupted" in stderr
    assert not [line for line in rest.splitlines() if "summary" in line]
    assert len(rest.splitlines()) < 2 * 16 - 1, "files still waiting were not analysed"
