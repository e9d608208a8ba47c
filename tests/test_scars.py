"""Scar typing on hand-made zone maps and images (independent of the renderer): FUE fields of dots too
small to pass one by one, and the relief cue that tells a raised lump from a flat scar."""

from __future__ import annotations

import cv2
import numpy as np

from smpvision.analysis.scars import find_scars

SKIN = (196, 150, 128)  # a light scalp, sRGB
PALE = (214, 182, 166)  # a flat healed scar: lighter and less red than the skin


def _scalp(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    image = np.full((size, size, 3), SKIN, np.uint8)
    zones = np.full((size, size), 3, np.uint8)  # bald scalp everywhere
    return image, zones


def test_a_field_of_tiny_punch_scars_is_one_fue_field() -> None:
    image, zones = _scalp()
    rng = np.random.default_rng(0)
    centres = rng.uniform(20, 236, (12, 2)).astype(int)
    for x, y in centres:
        cv2.circle(zones, (int(x), int(y)), 1, 4, -1)  # 5 px each, under the 12 px speck limit
        cv2.circle(image, (int(x), int(y)), 1, PALE, -1)
    scars = find_scars(image, zones, mm_per_px=0.5)
    assert [s.type for s in scars] == ["fue_dots"]
    assert scars[0].count == len(np.unique(centres, axis=0))


def test_two_tiny_specks_are_noise_not_a_field() -> None:
    image, zones = _scalp()
    for x, y in ((40, 40), (200, 180)):
        cv2.circle(zones, (x, y), 1, 4, -1)
    assert find_scars(image, zones, mm_per_px=0.5) == []


def _lump(relief: bool) -> tuple[np.ndarray, np.ndarray]:
    """An oval scar 40×20 px, pale; with relief its left flank catches the light and its right is shaded."""
    image, zones = _scalp()
    mask = np.zeros(zones.shape, np.uint8)
    cv2.ellipse(mask, (128, 128), (20, 10), 0, 0, 360, 1, -1)
    zones[mask > 0] = 4
    scar = np.full(image.shape, PALE, np.float32)
    if relief:
        ramp = np.linspace(1.35, 0.6, 41, dtype=np.float32)  # bright to dark across the lump
        shade = np.ones(zones.shape, np.float32)
        shade[:, 108:149] = ramp
        scar *= shade[..., None]
    image = np.where(mask[..., None] > 0, np.clip(scar, 0, 255), image).astype(np.uint8)
    return image, zones


def test_relief_makes_a_compact_scar_raised_in_a_whole_head_photo() -> None:
    image, zones = _lump(relief=True)
    assert find_scars(image, zones, mm_per_px=0.5)[0].type == "raised"


def test_a_flat_pale_lump_is_not_raised() -> None:
    image, zones = _lump(relief=False)
    assert find_scars(image, zones, mm_per_px=0.5)[0].type == "irregular"


def test_close_ups_type_raised_by_colour_only() -> None:
    """Skin texture and shafts vary a close-up scar's lightness like relief does: the cue is off there."""
    image, zones = _lump(relief=True)  # 4 × 2 mm at 0.1 mm/px: too big for one punch scar
    assert find_scars(image, zones, mm_per_px=0.1, closeup=True)[0].type == "irregular"


def test_a_band_crossing_a_close_up_is_an_fut_strip_and_a_bent_one_is_not() -> None:
    """A 10 mm field: a 2 mm band leaving the frame at both ends is a strip; the same width bent inside
    the field is an irregular scar. The whole-head rule (≥ 60 mm long) could never hold here."""
    image, zones = _scalp()
    cv2.line(zones, (0, 60), (255, 200), 4, 51)
    assert find_scars(image, zones, mm_per_px=10 / 256, closeup=True)[0].type == "fut_strip"
    image, zones = _scalp()
    cv2.polylines(zones, [np.array([[40, 60], [120, 180], [200, 70]], np.int32)], False, 4, 51)
    assert find_scars(image, zones, mm_per_px=10 / 256, closeup=True)[0].type == "irregular"


def test_one_punch_sized_dot_in_a_close_up_is_an_fue_scar() -> None:
    """A dermoscope field (2.5 mm) often holds a single FUE punch scar (~1 mm): with the scale known it is
    typed by its size, not by counting dots; without a scale one dot stays a plain scar."""
    image, zones = _scalp()
    cv2.circle(zones, (128, 128), 45, 4, -1)  # 0.9 mm across at 0.01 mm/px
    cv2.circle(image, (128, 128), 45, PALE, -1)
    scars = find_scars(image, zones, mm_per_px=0.01, closeup=True)
    assert [(s.type, s.count) for s in scars] == [("fue_dots", 1)]
    assert find_scars(image, zones, mm_per_px=None, closeup=True)[0].type == "irregular"
