"""Objects versus texture: is a blob only the background moved a little?

Leaves and a tree's crown in a gust, an awning's hem, water, what is left of a camera's shake: the
picture inside such a blob is the background's own picture shifted by a pixel or three, which the
variability model (`detect.variability`) has not caught up with yet. A person or a vehicle is new
content that no small shift of the background explains. The test is one `cv2.matchTemplate` of the
blob's box over the background around it (about 30 µs with the blob's mask, on a rainy night's blobs,
2026-12-03), run only for tracks not confirmed yet, wherever they are: right after a switch to infrared
the variability learnt in colour does not raise the thresholds of a tree that the infrared noise
threshold leaves as foreground, but its blob is still the background moved.
"""

from __future__ import annotations

import cv2
import numpy as np

from detect.regions import CROSS, Blob, is_soft

REACH = 3  # the background is searched this far each way (pixels at work size: 12 at 640 across)
EXPLAINED = 0.6  # moved background: at the best shift, this share of the blob's pixels is explained: ...
TEXTURED = 0.3  # a blob needs a core where the thresholds are raised in this share of its box at least
STRONG, STRONG_SHARE = 2, 0.5  # see in_strong_texture
LEFT_OVER = 0.6  # ... what is left of its difference is within the noise threshold, or the pixel's threshold
# where the background moves (its flutter), as long as that is at most this fraction of the difference


def moved_background(frame: np.ndarray, background: np.ndarray, foreground: np.ndarray, noise: np.ndarray,
                     limits: np.ndarray, blob: Blob) -> bool:
    """Does some shift of up to REACH pixels of the (float32) background explain the (uint8) frame at the
    blob's foreground pixels (0/255 `foreground`)? A pixel is explained when what is left at the best shift is
    within the `noise` threshold, or within the pixel's threshold where the background moves (`limits`: leaves
    flutter as they sway) as long as that is well below its difference in place."""
    height, width = frame.shape
    left, top = max(0, blob.x0 - REACH), max(0, blob.y0 - REACH)
    right, bottom = min(width, blob.x1 + REACH), min(height, blob.y1 + REACH)
    box = (slice(blob.y0, blob.y1), slice(blob.x0, blob.x1))
    template = frame[box].astype(np.float32)
    mask = np.ascontiguousarray(foreground[box])
    around = background[top:bottom, left:right]
    residuals = cv2.matchTemplate(around, template, cv2.TM_SQDIFF, mask=mask)
    dy, dx = np.unravel_index(int(residuals.argmin()), residuals.shape)
    rows, columns = template.shape
    shifted = around[dy: dy + rows, dx: dx + columns]
    tolerance = np.maximum(noise[box], np.minimum(limits[box], LEFT_OVER * np.abs(template - background[box])))
    explained = (np.abs(template - shifted) <= tolerance) & (mask > 0)
    return bool(np.count_nonzero(explained) >= EXPLAINED * np.count_nonzero(mask))


def in_texture(noise: np.ndarray, limits: np.ndarray, blob: Blob, share: float = TEXTURED, times: int = 1) -> bool:
    """Is the blob where the background is known to move (`limits` above `times` the `noise` threshold in `share` of
    its box)?"""
    inside = (slice(blob.y0, blob.y1), slice(blob.x0, blob.x1))
    # `times` the noise saturates at 255, which the limits (uint8) are never above, as they are never above a multiple
    # of the noise over 255
    raised = noise[inside] if times == 1 else cv2.convertScaleAbs(noise[inside], alpha=times)
    return bool(cv2.countNonZero(cv2.compare(limits[inside], raised, cv2.CMP_GT)) >= share * blob.area)


def in_strong_texture(noise: np.ndarray, limits: np.ndarray, blob: Blob) -> bool:
    """Is the blob where the background moves much (`limits` over STRONG times the noise threshold in STRONG_SHARE of
    its box): leaves, awnings and water, not a path that people keep walking?"""
    return in_texture(noise, limits, blob, STRONG_SHARE, STRONG)


def not_an_object(frame: np.ndarray, difference: np.ndarray, background: np.ndarray, lasting: np.ndarray,
                  foreground: np.ndarray, noise: np.ndarray, limits: np.ndarray, raining: bool, soft: bool,
                  blob: Blob) -> bool:
    """Is the blob (found in the `lasting` foreground) no object? Where it rains or snows (`raining`) or the
    background is known to move (`limits` above `noise` in TEXTURED of its box), without a core in the frame's
    `foreground` (no pixel with its four neighbours in it too: streaks and flakes side by side, the edges of leaves
    that moved a pixel; elsewhere a thin, dim person far off or at the picture's edge has none either); out of
    focus when `soft` is to be checked (a snowflake or a drop right in front of the lens:
    `detect.regions.is_soft`); or the background moved a little (`moved_background`)."""
    textured = in_texture(noise, limits, blob)
    box = (slice(max(0, blob.y0 - 1), blob.y1 + 1), slice(max(0, blob.x0 - 1), blob.x1 + 1))
    if (raining or textured) and not cv2.countNonZero(cv2.erode(foreground[box], CROSS)):
        return True
    if soft and is_soft(difference, frame, blob):
        return True
    return bool(moved_background(frame, background, lasting, noise, limits, blob))
