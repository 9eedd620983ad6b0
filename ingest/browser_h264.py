"""H.264 that every browser decodes, for pictures of cameras whose own codec browsers cannot play (H.265):
the encoder settings and the size limit shared by live view and playback."""

from __future__ import annotations

MAX_HEIGHT = 720  # lines: bounds the cost of encoding again, still sharp on a post's screen


def encoder_options(keyframe_frames: int | None) -> dict[str, str]:
    """libx264 settings: fast, a frame out for every frame in, no B-frames, SPS/PPS before every keyframe;
    a keyframe every `keyframe_frames` frames, or (None) only where the caller marks one."""
    keyint = "infinite" if keyframe_frames is None else str(keyframe_frames)
    return {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": "baseline",  # what aiortc offers and every browser decodes
        "x264-params": f"repeat-headers=1:scenecut=0:bframes=0:keyint={keyint}",
    }


def scaled_size(width: int, height: int) -> tuple[int, int]:
    """The output size: at most MAX_HEIGHT lines, the aspect kept, both sides even (4:2:0)."""
    if height <= MAX_HEIGHT:
        return width - width % 2, height - height % 2
    scaled_width = round(width * MAX_HEIGHT / height)
    return scaled_width - scaled_width % 2, MAX_HEIGHT
