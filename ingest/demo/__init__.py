"""The demo cameras: synthetic street scenes (`synthetic`, drawn from `world`, `background`, `sprites` and
`traffic`), rendered and encoded once and cached on disk (`scenes`), replayed by ingest as cameras."""

from ingest.demo.scenes import (
    DEMO_FPS,
    DEMO_SCENES,
    KEYFRAME_SECONDS,
    crossroad,
    demo_spec,
    encode,
    encode_frames,
    ensure_demo_video,
    ensure_encoded,
)

__all__ = ["DEMO_FPS", "DEMO_SCENES", "KEYFRAME_SECONDS", "crossroad", "demo_spec", "encode", "encode_frames",
           "ensure_demo_video", "ensure_encoded"]
