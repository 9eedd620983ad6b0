"""`nvr analyze`: detection over a video file, as a household's footage from a USB stick."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from detect.observation import rounded
from detect.settings import CameraDetectSettings
from ingest.demo import encode
from tests.conftest import wait_for
from tests.support.media import motorbike_scene, onsets

NIGHT_FROM = 12.5
# `nvr` as a terminal's foreground job runs it: Ctrl-C raises KeyboardInterrupt. A shell without job control starts
# its background commands with SIGINT ignored, and Python then keeps it ignored in what they start (pytest under a
# background script, CI): the test sets it back, as it means to test the command's answer to Ctrl-C
AS_A_TERMINAL_JOB = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                     "sys.argv[0] = 'nvr'; runpy.run_module('nvr', run_name='__main__', alter_sys=True)")


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("usb") / "cua-hang.mp4"
    encode(motorbike_scene(night_from=NIGHT_FROM), path)
    return path


def analyze(*args: str, cwd: Path) -> tuple[int, list[dict], str]:
    done = subprocess.run([sys.executable, "-m", "nvr", "analyze", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, check=False)
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
    with subprocess.Popen([sys.executable, "-c", AS_A_TERMINAL_JOB, "analyze", *copies], cwd=tmp_path, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())  # the first event: analysis is under way
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=30)
    assert "file" in first and process.returncode == 130 and "interrupted" in stderr
    assert not [line for line in rest.splitlines() if "summary" in line]


def test_an_interrupt_stops_the_files_under_way_and_starts_no_other(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """What the signal test above cannot see: every file under way is told to stop (it would otherwise run to
    its end), and files still waiting are never opened."""
    from nvr.commands import analyze as analyze_command
    from nvr.config import Config

    files = [tmp_path / f"{name}.mp4" for name in "abcdef"]
    for path in files:
        path.write_bytes(b"")
    started, starting = [], threading.Lock()
    seen: dict[str, bool] = {}  # file -> was it told to stop

    def analyze_file(path: Path, settings: object, detection: object, emit: object,
                     stop: threading.Event) -> analyze_command.FileSummary:
        with starting:
            started.append(path.name)
            if len(started) == 2:  # Ctrl-C, delivered to the main thread as it would be, while two files run
                main = threading.main_thread().ident
                assert main is not None
                signal.pthread_kill(main, signal.SIGINT)
        seen[path.name] = stop.wait(10)
        return analyze_command.FileSummary(str(path))

    monkeypatch.setattr(analyze_command, "analyze_file", analyze_file)
    monkeypatch.setattr(analyze_command.os, "cpu_count", lambda: 2)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # see AS_A_TERMINAL_JOB
    try:
        assert analyze_command.run_analyze(Config(), files, None, io.StringIO()) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    # a Ctrl-C landing while a worker thread starts leaves that thread to the interpreter's exit to join
    wait_for(lambda: len(seen) == 2, 10, "both files under way to end")
    assert seen == {"a.mp4": True, "b.mp4": True} and sorted(started) == ["a.mp4", "b.mp4"]


def live_path_events(path: Path, shared: Path) -> list[dict]:
    """The file's events as the station finds them: each frame decoded by the camera's tap into the recorder's
    work picture in shared memory (`DetectFeed`), read from there and ticked, one frame at a time (the station's
    ticks take every frame of a camera that keeps up)."""
    from detect.settings import BankSettings
    from ingest.clock import Stamp
    from ingest.frame_tap import detection_tap
    from ingest.source import SourceOptions, open_source
    from nvr.detection import DetectionPipeline
    from nvr.runtime.detect_feed import DetectFeed
    from nvr.runtime.work_pictures import WorkPictureTable

    work_size = BankSettings().work_size
    table = WorkPictureTable(shared, 1, work_size, create=True)
    pipeline = DetectionPipeline()
    pipeline.watch("file", CameraDetectSettings())
    tap = detection_tap(DetectFeed(table, 0, work_size), CameraDetectSettings())
    source = open_source(path.resolve().as_uri(), SourceOptions(realtime=False, loop=False))
    updates, t, first = [], 0.0, None
    try:
        tap.start(source.stream)
        for packet in source.packets(threading.Event(), 3600.0):
            assert packet.dts is not None
            t = float(packet.dts * source.time_base)
            first = t if first is None else first
            t -= first
            tap.packet(packet, Stamp(t, discontinuity=False))
            for picture in table.read_new().values():
                pipeline.submit("file", picture.luma, None if picture.chroma is None else tuple(picture.chroma),
                                picture.t)
            updates += pipeline.tick(t)
        updates += pipeline.close(t)
    finally:
        source.close()
        table.close()
    return [{"type": u.event.type, "start": round(u.event.start, 2), "end": round(u.event.end, 2),
             "score": round(u.event.score, 3), "boxes": rounded(u.event.boxes)}
            for u in updates if u.kind == "ended" and u.event.end is not None]


@pytest.mark.parametrize(("scenario", "clip"), [("rain-ir", "rain-ir-crossroad"), ("shake", "shake-4-crossroad")])
def test_a_night_of_rain_and_a_shaking_camera_give_what_the_live_path_gives(scenario: str, clip: str,
                                                                          tmp_path: Path) -> None:
    """The corpus' rain in infrared and its jittering pole (15 s of it alone, then movers), encoded as a camera
    would: `nvr analyze` reports the events the station would, and motion only once the movers come."""
    from scripts.make_detect_corpus import SCENARIOS, WEATHER_QUIET, encode_clip

    chosen = next(c for c in SCENARIOS[scenario]() if c.name == clip)
    chosen = replace(chosen, spec=replace(chosen.spec, seconds=WEATHER_QUIET + 9.0))
    path = tmp_path / f"{clip}.mp4"
    encode_clip(chosen, path, 512_000)
    code, lines, stderr = analyze(str(path), cwd=tmp_path)
    assert code == 0, stderr
    found = [{key: value for key, value in line.items() if key != "file"} for line in lines[:-1]]
    assert found == live_path_events(path, tmp_path / "work-pictures")
    motion = [event for event in found if event["type"] == "motion"]
    assert motion and all(event["start"] >= WEATHER_QUIET - 0.5 for event in motion), found
    summary = lines[-1]["summary"]
    weather, other = ("raining_seconds", "shaking_seconds") if scenario == "rain-ir" else ("shaking_seconds",
                                                                                         "raining_seconds")
    assert summary[weather] > 0.8 * summary["video_seconds"] and summary[other] == 0, summary
