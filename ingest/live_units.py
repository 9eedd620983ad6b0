"""What a recorder process sends the station of a watched stream: its access units and its sound.

Kept apart from the live hub so that the recorder processes, which only send these, do not import WebRTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# the most a live GOP is held (the recorder's tap, the district's relay): a camera sending keyframes rarely or never
# grew it without end; past this it is dropped, and new viewers wait for the next keyframe
MAX_GOP_BYTES = 64 << 20


@dataclass(frozen=True)
class EncodedFrame:
    """One access unit as it travels from the recorder process: Annex B, SPS/PPS in front of keyframes."""

    data: bytes
    pts: int
    time_base: Fraction
    keyframe: bool


@dataclass(frozen=True)
class AudioChunk:
    """One of the camera's audio packets as it travels from the recorder process, as the camera coded it."""

    data: bytes
    pts: int
    time_base: Fraction
    config: bytes | None = None  # the codec's configuration (AAC's AudioSpecificConfig): decodable from any chunk
