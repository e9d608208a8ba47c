"""Cautions read from the scalp itself: inflamed skin, patchy loss that may be alopecia areata.

They change the plan (refer or wait), so they are phrased as "possible": a technician confirms them by eye.
Long hair is not detected: measured on 120 rendered whole-head photos, a strands-hide-the-skin test found
5 of 28 long-haired heads and flagged 23 of 92 others, so the technician says it (the "density" look).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..contracts import ZONE_IDS

# CIELAB a* of bare scalp as measured without a colour reference: healthy scalps are rendered at a* 5–15,
# and white balance spreads the estimate up to 27 (max over 120 rendered whole-head photos)
INFLAMED_A = 28.0
AREATA_MIN_SHARE = 0.01  # of the scalp: one islet of loss must be at least this big to count
AREATA_MIN_ROUNDNESS = 0.55  # 4πA/P²: alopecia areata patches are round or oval
AREATA_SURROUND = 0.8  # share of the patch's rim that is hair-bearing scalp
AREATA_MIN_PATCHES = 2  # one round patch ringed by hair is as often a crown (vertex) bald spot


def scalp_flags(zones: np.ndarray, skin, kind: str) -> list[str]:
    """Flag codes (see smpvision/configs/recommend.yaml for their wording)."""
    flags = []
    if skin is not None and skin.lab[1] > INFLAMED_A:
        flags.append("inflamed")
    if kind == "overview" and _round_islets_of_loss(zones) >= AREATA_MIN_PATCHES:
        flags.append("possible_alopecia_areata")
    return flags


def _round_islets_of_loss(zones: np.ndarray) -> int:
    """Round bald patches ringed by hair: male/female pattern loss grows from the hairline or the crown
    and joins the edge of the hair-bearing area instead."""
    loss = np.isin(zones, (ZONE_IDS["bald"], ZONE_IDS["thinning"])).astype(np.uint8)
    scalp_px = max(int((zones != ZONE_IDS["background"]).sum()), 1)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(loss, connectivity=8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    found = 0
    for i in range(1, n):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < AREATA_MIN_SHARE * scalp_px:
            continue
        patch = (labels == i).astype(np.uint8)
        contours, _ = cv2.findContours(patch, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        perimeter = sum(cv2.arcLength(c, True) for c in contours)
        if 4 * np.pi * area / max(perimeter, 1.0) ** 2 < AREATA_MIN_ROUNDNESS:
            continue
        rim = (cv2.dilate(patch, kernel) > 0) & (patch == 0)
        if rim.any() and float((zones[rim] == ZONE_IDS["hair"]).mean()) >= AREATA_SURROUND:
            found += 1
    return found
