"""Scale from hair-shaft width: drawn lines of known width, rendered close-ups of known mm/px, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from smpvision.scale import TYPICAL_SHAFT_UM, estimate_mm_per_px, estimate_shaft_width_px


def _lines(width: float, size: int = 400, seed: int = 0, blur: float = 0.8) -> np.ndarray:
    """Six dark anti-aliased bars of exactly `width` px at random angles on a grey field."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 200, np.uint8)
    for _ in range(6):
        centre = rng.uniform(0.2, 0.8, 2) * size
        ang = rng.uniform(0, np.pi)
        along = np.array([np.cos(ang), np.sin(ang)]) * rng.uniform(0.2, 0.3) * size
        across = np.array([-np.sin(ang), np.cos(ang)]) * width / 2
        quad = np.array([centre - along + across, centre + along + across, centre + along - across,
                         centre - along - across])  # fmt: skip
        cv2.fillPoly(img, [np.round(quad * 16).astype(np.int32)], (70, 60, 55), cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(img, (0, 0), blur)


@pytest.mark.parametrize("width", [8.0, 12.0, 20.0])
def test_width_of_drawn_lines(width: float) -> None:
    # measured: 0.93–1.08 × the drawn width for 8–24 px bars in 384–1280 px frames
    assert estimate_shaft_width_px(_lines(width)) == pytest.approx(width, rel=0.15)


def test_width_follows_magnification() -> None:
    small = _lines(10.0, size=300, seed=3)
    big = cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    assert estimate_shaft_width_px(big) == pytest.approx(2 * estimate_shaft_width_px(small), rel=0.15)


def test_mm_per_px_is_shaft_over_width() -> None:
    img = _lines(14.0)
    width = estimate_shaft_width_px(img)
    assert estimate_mm_per_px(img) == pytest.approx(TYPICAL_SHAFT_UM / 1000 / width)
    assert estimate_mm_per_px(img, shaft_um=90) == pytest.approx(0.090 / width)


# Over trichoscope renders of dark terminal hair (not long, at least 8 hairs) the estimate is within 35 %
# of the truth for about three in five and off by a median of about 30 % (renderer 12: 24 frames, 2 None,
# median 30 %, 59 % within 35 %; renderer 10/11: 25 %, 70 %; renderer 9: 23.7 %, 77 %). Renderer 12's
# depth of field widens blurred shafts, so estimates read finer than the truth (median ratio 0.77 over 40
# frames, 0.89 with the focus left sharp); the real trichoscopy frames read 0.82 of their known scale.
# Single seeds are not a fair test: the capture software's overlays and the JPEG quality drawn after them
# move one frame's estimate by a third.
def test_rendered_trichoscope_scale(render_sample) -> None:
    errors, missing, seed = [], 0, 0
    while len(errors) + missing < 24 and seed < 400:
        s = render_sample(seed, size=384, kind="closeup", region="trichoscope")
        seed += 1
        hair = s.meta["hair"]
        if hair["name"] not in ("black", "dark_brown") or hair["style"] == "long" or len(s.hairs) < 8:
            continue
        est = estimate_mm_per_px(s.image)
        if est is None:
            missing += 1
        else:
            errors.append(abs(est / s.meta["mm_per_px"] - 1))
    assert len(errors) + missing == 24 and missing <= 3
    assert np.median(errors) <= 0.33 and np.mean(np.array(errors) <= 0.35) >= 0.55


def test_none_without_shafts() -> None:
    assert estimate_shaft_width_px(np.full((300, 400, 3), 128, np.uint8)) is None
    noise = np.random.default_rng(0).normal(150, 12, (300, 400, 3))
    assert estimate_mm_per_px(np.clip(noise, 0, 255).astype(np.uint8)) is None
    one_speck = np.full((300, 400, 3), 200, np.uint8)
    cv2.line(one_speck, (100, 100), (130, 110), (40, 40, 40), 6)
    assert estimate_shaft_width_px(one_speck) is None


@pytest.mark.parametrize(
    ("image", "error", "hint"),
    [
        (np.zeros((64, 64, 3), np.float32), TypeError, "uint8"),
        (np.zeros((64, 64), np.uint8), ValueError, r"\(H, W, 3\)"),
        (np.zeros((64, 64, 4), np.uint8), ValueError, r"img\[\.\.\., :3\]"),
        (np.zeros((16, 64, 3), np.uint8), ValueError, "at least 32"),
        ([[0, 0, 0]], TypeError, "numpy array"),
    ],
)
def test_bad_input_says_the_fix(image, error: type[Exception], hint: str) -> None:
    with pytest.raises(error, match=hint):
        estimate_shaft_width_px(image)


def test_bad_shaft_width() -> None:
    with pytest.raises(ValueError, match="50–100"):
        estimate_mm_per_px(_lines(10.0), shaft_um=0.07)
