"""Scar regions typed from shape and colour: `fut_strip`, `fue_dots`, `irregular`, `raised`.

The model marks scar pixels without a type, so the type comes from cues a technician also uses:
- colour against the skin around it: healed flat scars are hypopigmented (lighter, less red than the
  skin); hypertrophic/keloid (`raised`) scars are redder, or darker on dark skin, and show relief (their
  lightness varies inside them; read in whole-head photos only, see find_scars);
- shape: a field of many small round dots is FUE harvesting; one long narrow band is an FUT strip;
  anything else is `irregular` (trauma, other surgery).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..contracts import ZONE_IDS
from ..synth.color import rgb_to_lab

_MIN_SCAR_PX = 12  # a lone speck smaller than this is segmentation noise
_MIN_DOT_PX = 2  # FUE punch scars (0.8–1 mm) are only a few pixels in a whole-head photo
_DOT_MAX_FRACTION = 0.004  # of the scalp: one FUE punch scar is tiny next to the scalp
_MIN_DOTS = 2  # this many separate small round dots make an FUE field
_DOT_MAX_MM = 1.6  # with a scale: an FUE punch scar is 0.8–1.2 mm across, even when alone
_STRIP_ELONGATION = 4.0  # length / width of an FUT strip's bounding rectangle
_STRIP_MIN_MM = 60.0  # an FUT strip runs across the back of the head; shorter bands are other scars
_STRIP_ELONGATION_NO_SCALE = 6.0  # without a scale, only a very long band is called a strip
# In a close-up (a 3–25 mm field) an FUT strip is a straight band that runs out of the field at both ends:
# it touches two sides of the frame and fills most of its rectangle. On the label masks of 160 rendered
# close-up scars (seeds below 5000, the tuning set) 30 of 31 strips touched two sides and 5 of 41
# irregular scars did; the whole-head rule (≥ 60 mm long) can never hold in a close-up, so every strip
# read irregular.
_STRIP_CLOSEUP_SIDES = 2
_STRIP_CLOSEUP_FILL = 0.65
_RAISED_REDNESS = 2.0  # a* above the surrounding skin's (flat healed scars are paler: a* below it)
# Relief: a raised scar catches light on one flank and shades the other, so its lightness varies inside
# it far more than a flat scar's. On label masks of rendered whole-head photos (renderer v3), the std of
# L* inside the eroded scar: raised median 11.4 (10th percentile 5.9), irregular 3.3 (90th 8.3), FUT 4.3.
# A hypertrophic/keloid scar is a compact lump (solidity ≥ 0.86 for 90 % of them), where an irregular
# scar is a bent band (median 0.82): the pair keeps strands lying over a bent flat scar from passing.
_RAISED_RELIEF = 7.0
_RAISED_SOLIDITY = 0.85
_MIN_TINY_DOTS = 6  # dots under _MIN_SCAR_PX count only as a field of at least this many (else noise)
_RING_PX = 4  # width of the skin ring around a scar that it is compared with


@dataclass
class Scar:
    type: str
    pixels: int
    fraction_of_scalp: float
    area_cm2: float | None
    length_mm: float | None
    width_mm: float | None
    redness: float  # 0..1: how much redder than the skin around it (a fresh or raised scar is red)
    delta_lab: tuple[float, float, float]  # scar − surrounding skin, CIELAB
    bbox: tuple[int, int, int, int]  # x, y, w, h in image pixels
    count: int = 1  # dots in an FUE field


def find_scars(
    image: np.ndarray, zones: np.ndarray, mm_per_px: float | None, closeup: bool = False
) -> list[Scar]:
    """Connected scar regions, largest first; many small dots are merged into one FUE field.

    closeup: the photo is a dermoscope/macro field. There skin texture and shafts across a flat scar vary
    its lightness as much as relief does (on 120 rendered close-up scars, with the relief cue 20 of 83
    flat scars were called `raised`, 2 without it, and 3 more raised ones were found), so only colour
    calls a close-up scar raised."""
    mask = (zones == ZONE_IDS["scar"]).astype(np.uint8)
    scalp_px = max(int((zones != ZONE_IDS["background"]).sum()), 1)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    parts = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= _MIN_SCAR_PX]
    dots = [i for i in parts if _is_dot(stats[i], scalp_px, mm_per_px if closeup else None)]
    # FUE punch scars (0.8–1 mm) are 2–11 px in a whole-head photo: below the speck limit one by one, so
    # a field of them was lost (21 of 46 rendered FUE fields gave no scar). Many together are a field.
    tiny = [i for i in range(1, n) if _MIN_DOT_PX <= stats[i, cv2.CC_STAT_AREA] < _MIN_SCAR_PX]
    if len(dots) + len(tiny) >= _MIN_TINY_DOTS:
        dots = dots + tiny
    groups = [[i] for i in parts]
    # in a close-up of known scale a single punch-sized dot is an FUE scar (a dermoscope field often holds
    # just one); elsewhere only several small round dots together tell a field of them from a speck
    if len(dots) >= (1 if closeup and mm_per_px else _MIN_DOTS):
        groups = [dots] + [[i] for i in parts if i not in dots]
    if not groups:
        return []  # most photos: skip the whole-image Lab conversion
    lab = rgb_to_lab(image.astype(np.float32) / 255.0)
    scars = [
        _describe(lab, labels, g, zones, scalp_px, mm_per_px, fue=g is dots, closeup=closeup) for g in groups
    ]
    return sorted(scars, key=lambda s: -s.pixels)


def _is_dot(stat: np.ndarray, scalp_px: int, mm_per_px: float | None) -> bool:
    """A round component the size of one FUE punch scar: by its width in mm when a close-up's scale is
    given (there one punch scar is a large share of the field), else by its share of the scalp (in a
    whole-head photo a punch scar is drawn over a few pixels, wider than 1.6 mm at that scale)."""
    if not _roundish(stat):
        return False
    if mm_per_px:
        return 2 * np.sqrt(stat[cv2.CC_STAT_AREA] / np.pi) * mm_per_px <= _DOT_MAX_MM
    return stat[cv2.CC_STAT_AREA] <= _DOT_MAX_FRACTION * scalp_px


def _roundish(stat: np.ndarray) -> bool:
    w, h = stat[cv2.CC_STAT_WIDTH], stat[cv2.CC_STAT_HEIGHT]
    return max(w, h) <= 2.5 * min(w, h) and stat[cv2.CC_STAT_AREA] >= 0.4 * w * h


def _describe(
    lab: np.ndarray, labels: np.ndarray, ids: list[int], zones: np.ndarray, scalp_px: int,
    mm_per_px: float | None, fue: bool, closeup: bool,
) -> Scar:  # fmt: skip
    region = np.isin(labels, ids)
    pixels = int(region.sum())
    ys, xs = np.nonzero(region)
    bbox = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    delta = _contrast(lab, region, zones)
    (_, _), (rw, rh), _ = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
    length_px, width_px = max(rw, rh, 1.0), max(min(rw, rh), 1.0)
    elongation = length_px / width_px  # of the rectangle: a bent irregular scar fills a wide one
    redness = float(np.clip(delta[1] / 15.0, 0.0, 1.0))
    mm = mm_per_px
    lumpy = (
        not closeup
        and not fue
        and _relief(lab, region) >= _RAISED_RELIEF
        and _solidity(region) >= _RAISED_SOLIDITY
    )
    if delta[1] > _RAISED_REDNESS or lumpy:
        kind = "raised"
    elif fue:
        kind = "fue_dots"
    elif closeup and _crosses_the_field(region.shape, xs, ys) and pixels >= _STRIP_CLOSEUP_FILL * rw * rh:
        kind = "fut_strip"
    elif (
        not closeup
        and elongation >= (_STRIP_ELONGATION if mm else _STRIP_ELONGATION_NO_SCALE)
        and (not mm or length_px * mm >= _STRIP_MIN_MM)
    ):
        kind = "fut_strip"
    else:
        kind = "irregular"
    if not fue:  # a bent band's true width is its area over its length
        width_px = min(width_px, pixels / length_px)
    return Scar(
        type=kind,
        pixels=pixels,
        fraction_of_scalp=round(pixels / scalp_px, 5),
        area_cm2=round(pixels * (mm / 10) ** 2, 3) if mm else None,
        length_mm=round(length_px * mm, 1) if mm and not fue else None,
        width_mm=round(width_px * mm, 1) if mm and not fue else None,
        redness=round(redness, 3),
        delta_lab=tuple(round(float(v), 2) for v in delta),
        bbox=bbox,
        count=len(ids) if fue else 1,
    )


def _crosses_the_field(shape: tuple[int, ...], xs: np.ndarray, ys: np.ndarray) -> bool:
    """Pixels xs, ys touch at least two sides of the frame (a band that leaves the field at both ends)."""
    h, w = shape[:2]
    sides = [xs.min() == 0, ys.min() == 0, xs.max() == w - 1, ys.max() == h - 1]
    return sum(bool(v) for v in sides) >= _STRIP_CLOSEUP_SIDES  # (numpy bools add as "or")


def _relief(lab: np.ndarray, region: np.ndarray) -> float:
    """Std of L* inside the scar, one pixel in from its edge (the edge mixes in the skin around it)."""
    inner = cv2.erode(region.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if inner.sum() < 6:
        return 0.0
    return float(lab[..., 0][inner].std())


def _solidity(region: np.ndarray) -> float:
    """Pixels over the convex hull's area (hull through pixel centres, so a small lump reads a little
    over 1): ≈ 1 for a lump, lower for a bent band."""
    ys, xs = np.nonzero(region)
    hull = cv2.contourArea(cv2.convexHull(np.stack([xs, ys], 1).astype(np.float32)))
    return float(len(xs) / hull) if hull > 0 else 1.0


def _contrast(lab: np.ndarray, region: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """Median scar colour minus the median of the skin in a ring around it. Hair strands in the ring are
    dark: only the ring's lighter half is used, and the scar's, so that both read bare skin."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _RING_PX + 1, 2 * _RING_PX + 1))
    ring = cv2.dilate(region.astype(np.uint8), kernel).astype(bool) & ~region
    ring &= (zones != ZONE_IDS["background"]) & (zones != ZONE_IDS["scar"])
    if ring.sum() < 5:
        return np.zeros(3, np.float32)
    return _bare(lab[region]) - _bare(lab[ring])


def _bare(px: np.ndarray) -> np.ndarray:
    light = px[px[:, 0] >= np.percentile(px[:, 0], 50)]
    return np.median(light, axis=0)
