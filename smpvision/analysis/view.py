"""Whole-head photo or close-up? Decided from the photo when the user does not say.

A close-up (dermoscope or phone macro) is filled with scalp and shows single hair shafts several pixels
wide; a whole-head photo shows the head against a room, face, neck or clothes. The model's own whole-head
pass gives the first cue (how much of the frame is not scalp), the shaft-width scale estimate the second.
"""

from __future__ import annotations

import numpy as np

from ..contracts import ZONE_IDS
from ..scale import estimate_mm_per_px
from ..segmenter import SegmentationResult

CLOSEUP_MAX_BACKGROUND = 0.25  # share of the frame; a lens circle's black corners stay below this
CLOSEUP_MAX_MM_PER_PX = 0.12  # coarser than this, single shafts are under a pixel: not a close-up


def detect_view(image: np.ndarray, overview_pass: SegmentationResult) -> tuple[str, dict]:
    """("overview" | "closeup", the cues it was decided from)."""
    background = float((overview_pass.zones == ZONE_IDS["background"]).mean())
    cues: dict = {"background_share": round(background, 3)}
    if background > CLOSEUP_MAX_BACKGROUND:
        return "overview", cues
    mm = estimate_mm_per_px(image)
    cues["shaft_mm_per_px"] = mm  # unrounded: assess reuses it as the close-up's scale (not measured twice)
    return ("closeup" if mm is not None and mm <= CLOSEUP_MAX_MM_PER_PX else "overview"), cues
