"""Whole-head photo or close-up? Decided from the photo when the user does not say.

A close-up (dermoscope or phone macro) is filled with scalp and shows single hair shafts several pixels
wide; a whole-head photo shows the head against a room, face, neck or clothes. The model's own whole-head
pass gives the first cue (how much of the frame is not scalp), the shaft-width scale estimate the second,
for the photos the first leaves in doubt.

The thresholds come from 300 whole-head and 300 close-up renders of a seed space of their own (6404),
through model v2.1's whole-head pass: it calls at most 1.1 % of the frame background in 95 % of the
close-ups (lens circles included) and at least 13.7 % in 99 % of the whole-head photos. The shaft
estimate alone decided everything up to 25 % before, and it finds no shafts in a third of the rendered
close-ups and finds "shafts" (strands, edges) in whole-head photos: 204 of 300 close-ups and 278 of 300
whole-head photos were right then, 296 and 299 with the bands below (outputs/s38/view_rule.md, README).
The bands were kept for model version 3 (other zones, 2026-12-08) and measured once with it
(benchmarks/view_detection.py): 295 of 300 held-out renders, 329 of 329 real trichoscopy frames and 1 387
of 1 427 real hair-loss photos right (v2.1: 297, 324, 1 371).
"""

from __future__ import annotations

import numpy as np

from ..contracts import ZONE_IDS
from ..scale import estimate_mm_per_px
from ..segmenter import SegmentationResult, Segmenter

CLOSEUP_SURE_BACKGROUND = 0.03  # share of the frame at or below which it is a close-up, shafts or not
CLOSEUP_MAX_BACKGROUND = 0.12  # above this it is a whole-head photo; in between the shafts decide
CLOSEUP_MAX_MM_PER_PX = 0.12  # coarser than this, single shafts are under a pixel: not a close-up


def detect_view(image: np.ndarray, overview_pass: SegmentationResult) -> tuple[str, dict]:
    """("overview" | "closeup", the cues it was decided from). cues["shaft_mm_per_px"], when present, is
    the shaft-width scale estimate (None: no shafts found), unrounded: assess reuses it as the close-up's
    scale rather than measuring twice."""
    background = float((overview_pass.zones == ZONE_IDS["background"]).mean())
    cues: dict = {"background_share": round(background, 3)}
    if background > CLOSEUP_MAX_BACKGROUND:
        return "overview", cues
    mm = estimate_mm_per_px(image)
    cues["shaft_mm_per_px"] = mm
    if background <= CLOSEUP_SURE_BACKGROUND:
        return "closeup", cues
    return ("closeup" if mm is not None and mm <= CLOSEUP_MAX_MM_PER_PX else "overview"), cues


def detect_view_of(image: np.ndarray, segmenter: Segmenter) -> tuple[str, dict, SegmentationResult]:
    """Run the model's whole-head pass on the photo and decide its view from it: (kind, cues, that pass),
    so that a caller assessing a whole-head photo reuses the pass instead of running it again."""
    overview_pass = segmenter.segment(image, view_kind="overview")
    kind, cues = detect_view(image, overview_pass)
    return kind, cues, overview_pass
