"""Demo scenes: encoded as live view and recording need them, with ground truth that matches the pictures."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from ingest.demo import DEMO_FPS, DEMO_SCENES, KEYFRAME_SECONDS, demo_spec, ensure_demo_video
from ingest.demo.synthetic import Mover, SceneSpec, gain_at, ground_truth, infrared_at, render
from ingest.demo_scene_names import DEMO_SCENE_NAMES
from tests.conftest import wait_for

SMALL = (320, 180)
SHORT = 3.0


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def night_video(demo_dir: Path) -> Path:
    return ensure_demo_video("alley-night", demo_dir, size=SMALL, seconds=SHORT)


def test_demo_video_is_h264_without_b_frames_with_a_keyframe_every_two_seconds(night_video: Path) -> None:
    with av.open(str(night_video)) as container:
        stream = container.streams.video[0]
        packets = [packet for packet in container.demux(stream) if packet.size]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.profile == "High"
        assert not stream.codec_context.has_b_frames
        assert (stream.width, stream.height) == SMALL and stream.average_rate == DEMO_FPS
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) == pytest.approx(SHORT)
    assert len(packets) == SHORT * DEMO_FPS
    assert all(packet.pts == packet.dts for packet in packets)  # decode order is display order
    gop = KEYFRAME_SECONDS * DEMO_FPS
    assert [i for i, packet in enumerate(packets) if packet.is_keyframe] == list(range(0, len(packets), gop))


def test_infrared_frames_have_neutral_chroma_and_colour_frames_do_not(night_video: Path) -> None:
    spec = demo_spec("alley-night", SMALL, SHORT)
    rendered = list(render(spec))
    with av.open(str(night_video)) as container:
        decoded = [frame.to_ndarray(format="yuv420p") for frame in container.decode(video=0)]
    modes = [infrared_at(spec, frame.time) for frame in rendered]
    assert any(modes) and not all(modes)
    for frame, picture, infrared in zip(rendered, decoded, modes, strict=True):
        assert frame.infrared == infrared
        chroma = np.abs(picture[SMALL[1]:].astype(int) - 128)  # U and V rows of the decoded picture
        if infrared:
            assert (frame.u == 128).all() and (frame.v == 128).all()
            assert chroma.max() <= 2, frame.index
        else:
            assert chroma.mean() > 1.5, frame.index


def test_movers_change_the_picture_inside_their_boxes_and_nowhere_else() -> None:
    car = Mover("car", ((-9.0, 10.5), (9.0, 10.5)), start=0.0, speed=9.0, look=3)
    walker = Mover("person", ((3.0, 12.8), (-3.0, 12.8)), start=0.0, speed=1.4, look=8)
    spec = SceneSpec(seed=5, place="shopfront", width=SMALL[0], height=SMALL[1], seconds=2.0, movers=(car, walker))
    empty = list(render(dataclasses.replace(spec, movers=())))
    assert (empty[0].y != empty[1].y).mean() > 0.3  # the sensor noise changes from frame to frame
    seen = set()
    for frame, background in zip(render(spec), empty, strict=True):
        difference = np.abs(frame.y.astype(int) - background.y)
        inside = np.zeros(difference.shape, bool)
        for box in frame.boxes:
            inside[box.y0:box.y1, box.x0:box.x1] = True
            assert difference[box.y0:box.y1, box.x0:box.x1].mean() > 8, (frame.index, box)
            seen.add(box.kind)
        assert not difference[~inside].any(), frame.index  # same seed, same noise: outside, identical
    assert seen == {"car", "person"}


def test_same_seed_same_scene_and_ground_truth() -> None:
    first, second = demo_spec("crossroad", SMALL, 20.0), demo_spec("crossroad", SMALL, 20.0)
    assert first == second and first.movers
    frames = range(0, first.frame_count, 5)
    assert [ground_truth(first, i) for i in frames] == [ground_truth(second, i) for i in frames]
    assert any(ground_truth(first, i) for i in frames)
    for a, b, _ in zip(render(first), render(second), range(3), strict=False):
        assert a.boxes == b.boxes and np.array_equal(a.image, b.image)
    other = dataclasses.replace(first, seed=first.seed + 1)
    assert not np.array_equal(next(render(other)).image, next(render(first)).image)


@pytest.mark.parametrize("scene", list(DEMO_SCENES))
def test_demo_loop_point_cuts_nobody_and_every_mover_shows(scene: str) -> None:
    spec = demo_spec(scene)
    last = spec.frame_count - 1
    assert ground_truth(spec, 0) == () and ground_truth(spec, last) == ()
    assert gain_at(spec, 0.0) == gain_at(spec, spec.seconds) == 1.0
    assert infrared_at(spec, 0.0) == infrared_at(spec, last / spec.fps) is False
    shown = {box.mover for index in range(0, spec.frame_count, 3) for box in ground_truth(spec, index)}
    assert shown == set(range(len(spec.movers)))


def test_unknown_scene_is_refused_with_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'garage'.*alley, crossroad, shopfront, alley-night"):
        ensure_demo_video("garage", tmp_path)


def test_concurrent_calls_share_one_render(tmp_path: Path) -> None:
    results: list[Path] = []

    def call() -> None:
        results.append(ensure_demo_video("shopfront", tmp_path, size=SMALL, seconds=1.0))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert [path.name for path in tmp_path.glob("*.mp4")] == [results[0].name]
    with av.open(str(results[0])) as container:
        assert sum(1 for _ in container.decode(video=0)) == DEMO_FPS


def test_a_render_killed_midway_leaves_no_video_and_the_next_call_makes_it(tmp_path: Path) -> None:
    seconds = 40.0  # long enough to be caught in the middle
    code = ("import pathlib, sys; from ingest.demo import ensure_demo_video; "
            f"ensure_demo_video('alley', pathlib.Path(sys.argv[1]), size={SMALL}, seconds={seconds})")
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=Path(__file__).resolve().parent.parent)
    try:
        wait_for(lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".*.partial")), 30, "a partial file",
                 interval=0.01)
    finally:
        child.kill()
        child.wait()
    assert not list(tmp_path.glob("*.mp4"))
    path = ensure_demo_video("alley", tmp_path, size=SMALL, seconds=seconds)
    assert not list(tmp_path.glob(".*.partial"))
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == seconds * DEMO_FPS


def test_the_scenes_a_config_may_name_are_the_scenes_rendered() -> None:
    """A configuration is checked against `DEMO_SCENE_NAMES` without loading the renderer: the same names."""
    assert tuple(DEMO_SCENES) == DEMO_SCENE_NAMES
