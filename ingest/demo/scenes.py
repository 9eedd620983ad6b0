"""The demo cameras: synthetic scenes rendered and H.264-encoded once, cached on disk, replayed by ingest.

`ensure_demo_video(scene, directory)` returns an MP4 that ingest plays in a loop as if it were a
camera. The file name carries a fingerprint of the scene, the generator version and the encoder
settings (bit rate included), so a changed scene is rendered again instead of served stale. Rendering
is serialised per file stem by a lock file (threads and processes) and published by an atomic rename,
so readers never see a partial file and a writer killed midway leaves only a `.partial` file,
overwritten by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ingest.demo.synthetic import LightEvent, SceneSpec, render
from ingest.demo.traffic import ROUTES, random_movers
from ingest.demo.world import Place

GENERATOR_VERSION = 1  # bump whenever the pictures change for the same SceneSpec
DEMO_SIZE = (960, 540)  # 1280x720 took 37 CPU-s for the four scenes (28-30 s on 2 cores), over the ~25 s budget
DEMO_SECONDS = 60.0
DEMO_FPS = 15
KEYFRAME_SECONDS = 2
ENCODER_OPTIONS = {  # libx264; no B-frames (WebRTC live view), a keyframe exactly every KEYFRAME_SECONDS
    "preset": "veryfast",
    "profile": "high",
    "crf": "26",
    "bf": "0",
    "g": str(DEMO_FPS * KEYFRAME_SECONDS),
    # scenecut=0: no extra keyframes; repeat-headers: SPS/PPS before every keyframe, as cameras send them;
    # BT.601 limited range is what the frames are in (see ingest.demo.synthetic)
    "x264-params": "scenecut=0:repeat-headers=1:colorprim=smpte170m:transfer=smpte170m:colormatrix=smpte170m",
}

SceneFactory = Callable[[tuple[int, int], float], SceneSpec]


def _street(seed: int, place: Place, per_minute: int, size: tuple[int, int], seconds: float, clock: datetime,
            light: tuple[LightEvent, ...] = (), infrared: tuple[tuple[float, float], ...] = ()) -> SceneSpec:
    movers = random_movers(np.random.default_rng(seed), ROUTES[place], round(per_minute * seconds / 60), seconds)
    return SceneSpec(seed=seed, place=place, width=size[0], height=size[1], fps=DEMO_FPS, seconds=seconds,
                     movers=movers, light=light, infrared=infrared, clock=clock)


def alley(size: tuple[int, int] = DEMO_SIZE, seconds: float = DEMO_SECONDS) -> SceneSpec:
    """Hẻm: a narrow concrete alley ending in a T; people and motorbikes; a cloud passes."""
    s = seconds
    light = (LightEvent(0.25 * s, 0.8, 0.1 * s), LightEvent(0.6 * s, 1.0, 0.12 * s))
    return _street(11, "alley", 12, size, seconds, datetime(2025, 3, 14, 9, 30), light)


def crossroad(size: tuple[int, int] = DEMO_SIZE, seconds: float = DEMO_SECONDS) -> SceneSpec:
    """A street crossing: motorbikes, some cars and pedestrians; the sun comes out for a while."""
    s = seconds
    light = (LightEvent(0.3 * s, 1.15, 0.08 * s), LightEvent(0.75 * s, 1.0, 0.1 * s))
    return _street(23, "crossroad", 40, size, seconds, datetime(2025, 3, 14, 16, 45), light)


def shopfront(size: tuple[int, int] = DEMO_SIZE, seconds: float = DEMO_SECONDS) -> SceneSpec:
    """Shop houses across a street, parked bikes on the pavement; the exposure jumps twice (light switch)."""
    s = seconds
    light = (LightEvent(0.37 * s, 1.25), LightEvent(0.73 * s, 1.0))
    return _street(37, "shopfront", 20, size, seconds, datetime(2025, 3, 14, 11, 10), light)


def alley_night(size: tuple[int, int] = DEMO_SIZE, seconds: float = DEMO_SECONDS) -> SceneSpec:
    """An alley at dusk: colour darkens, infrared night from 30 % to 70 % of the loop, then a dim dawn."""
    s = seconds
    light = (LightEvent(0.05 * s, 0.35, 0.2 * s), LightEvent(0.3 * s, 1.0), LightEvent(0.7 * s, 0.4),
             LightEvent(0.72 * s, 1.0, 0.2 * s))
    return _street(41, "alley", 10, size, seconds, datetime(2025, 3, 14, 18, 20), light, ((0.3 * s, 0.7 * s),))


DEMO_SCENES: dict[str, SceneFactory] = {"alley": alley, "crossroad": crossroad, "shopfront": shopfront,
                                        "alley-night": alley_night}  # DEMO_SCENE_NAMES, in its order (a test says)


def demo_spec(scene: str, size: tuple[int, int] = DEMO_SIZE, seconds: float = DEMO_SECONDS) -> SceneSpec:
    factory = DEMO_SCENES.get(scene)
    if factory is None:
        raise ValueError(f"unknown demo scene {scene!r}; known scenes: {', '.join(DEMO_SCENES)}")
    return factory(size, seconds)


def ensure_demo_video(scene: str, directory: Path, *, size: tuple[int, int] = DEMO_SIZE,
                      seconds: float = DEMO_SECONDS) -> Path:
    """The cached MP4 of `scene`, rendered and encoded first if missing (takes seconds; see README)."""
    spec = demo_spec(scene, size, seconds)
    return ensure_encoded(spec, directory, f"{scene}.{spec.width}x{spec.height}")


def ensure_encoded(spec: SceneSpec, directory: Path, stem: str, bit_rate: int | None = None) -> Path:
    """`spec` encoded (see `encode`) into `directory` as `<stem>.<fingerprint>.mp4`, unless it already is;
    an encoding of another spec under the same stem is removed, and a half-written one is never used."""
    path = directory / f"{stem}.{_fingerprint(spec, bit_rate)}.mp4"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory / f".{stem}.lock"):
        if not path.exists():
            partial = directory / f".{path.name}.partial"
            encode(spec, partial, bit_rate)
            os.replace(partial, path)
            for stale in directory.glob(f"{stem}.*.mp4"):
                if stale != path:
                    stale.unlink(missing_ok=True)
    return path


def encode(spec: SceneSpec, path: Path, bit_rate: int | None = None) -> None:
    """Render `spec` to an H.264 MP4 at `path`, flushed to disk (see `encode_frames`)."""
    encode_frames((frame.image for frame in render(spec)), (spec.width, spec.height), spec.fps, path, bit_rate)


def encode_frames(images: Iterable[np.ndarray], size: tuple[int, int], fps: int, path: Path,
                  bit_rate: int | None = None) -> None:
    """Encode I420 `images` of `size` (width, height), `fps` a second, to an H.264 MP4 at `path`, flushed to disk.

    Constant quality by default (clean synthetic pictures then take few bits); with `bit_rate`, the
    average rate a camera's encoder is set to instead, which keeps more of the sensor noise.
    """
    options = ENCODER_OPTIONS
    if bit_rate is not None:
        options = {name: value for name, value in ENCODER_OPTIONS.items() if name != "crf"}
        # one thread: x264's rate control across frame threads gives another file from one run to the next
        options |= {"maxrate": str(bit_rate), "bufsize": str(2 * bit_rate), "threads": "1"}
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps, options=options)
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        (stream.width, stream.height), stream.pix_fmt = size, "yuv420p"
        for index, image in enumerate(images):
            picture = av.VideoFrame.from_ndarray(image, format="yuv420p")
            picture.pts, picture.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    with open(path, "rb") as written:
        os.fsync(written.fileno())


def _fingerprint(spec: SceneSpec, bit_rate: int | None) -> str:
    identity = repr((GENERATOR_VERSION, spec, sorted(ENCODER_OPTIONS.items()), bit_rate))
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path`; the kernel releases it if the process dies."""
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
