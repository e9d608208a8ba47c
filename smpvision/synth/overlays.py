"""What capture software burns into close-ups: scale bar, measurement circle, a status bar or a label strip.

Drawn after the optics (they are crisp) and before JPEG. An opaque bar or label box hides the scalp, so its
pixels are background and hair points under it are dropped; thin graphics leave the zone labels unchanged.

The real dermoscope frames (../shared/realdata/trichoscopy-counts, 329 frames, measured 2026-12-07) show
one band or none: a plain light-grey bar (about 220 of 255, 32 of 1024 rows, no text) along the bottom of
25 % of them, or a strip of opaque dark-grey boxes (about 80 of 255, rows 5-44) with white text and a cyan
first label across the top-left of 12 %; never both. A red measurement circle is in 24 %.
"""

from __future__ import annotations

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
# none / bottom status bar / top label strip, within frames that carry overlays (60 % of dermoscope frames):
# overall about 25 % bottom bars and 14 % top strips, as in the real frames
_BAND_P = (0.35, 0.42, 0.23)


def burn_in(rng: np.random.Generator, img: np.ndarray, zones: np.ndarray, hairs: np.ndarray, mm_px: float):
    size = img.shape[0]
    th = max(1, int(size / 500))
    if rng.random() < 0.5:
        _scale_bar(rng, img, mm_px, th)
    if rng.random() < 0.3:
        _measurement_circle(rng, img, th)
    band = int(rng.choice(3, p=_BAND_P))
    if band == 1:
        hidden = _status_bar(rng, img, th)
    elif band == 2:
        hidden = _label_strip(rng, img, th)
    else:
        return img, zones, hairs
    zones[hidden] = 0
    if len(hairs):
        hi = np.clip(np.round(hairs).astype(int), 0, size - 1)
        hairs = hairs[~hidden[hi[:, 1], hi[:, 0]]]
    return img, zones, hairs


def _text(img: np.ndarray, text: str, org: tuple[int, int], height: float, col, th: int) -> int:
    """Draw `text` with its capitals about `height` px tall; returns its width in px."""
    scale = height / 22  # Hershey simplex capitals are ~22 px tall at scale 1
    cv2.putText(img, text, org, _FONT, scale, col, th, cv2.LINE_AA)
    return cv2.getTextSize(text, _FONT, scale, th)[0][0]


def _scale_bar(rng: np.random.Generator, img: np.ndarray, mm_px: float, th: int) -> None:
    """A 1 mm L-shaped scale bar with its label, near the bottom left."""
    size = img.shape[0]
    bar = 1.0 / mm_px
    if bar >= 0.6 * size:
        return
    x0, y0 = int(size * rng.uniform(0.03, 0.2)), int(size * rng.uniform(0.8, 0.95))
    col = (25, 25, 25) if rng.random() < 0.6 else (242, 242, 242)
    cv2.line(img, (x0, y0), (x0 + int(bar), y0), col, th)
    cv2.line(img, (x0, y0), (x0, y0 - int(0.15 * size)), col, th)
    _text(img, "1.0 mm", (x0 + int(bar) - int(0.06 * size), y0 - 3), 0.018 * size, col, th)


def _measurement_circle(rng: np.random.Generator, img: np.ndarray, th: int) -> None:
    """A thin red circle, often with its radius drawn, and half the time its translucent read-out box."""
    size = img.shape[0]
    c = rng.uniform(0.1, 0.6, 2) * size
    r = rng.uniform(0.3, 0.6) * size
    red = (int(rng.integers(190, 230)), 40, 40)
    cv2.circle(img, (int(c[0]), int(c[1])), int(r), red, th, cv2.LINE_AA)
    if rng.random() < 0.5:  # the radius, from the centre to the rim
        a = rng.uniform(0, 2 * np.pi)
        end = (int(c[0] + r * np.cos(a)), int(c[1] + r * np.sin(a)))
        cv2.line(img, (int(c[0]), int(c[1])), end, red, th, cv2.LINE_AA)
    if rng.random() < 0.5:
        bx, by = int(size * rng.uniform(0.4, 0.75)), int(size * rng.uniform(0.15, 0.6))
        box = img[by : by + int(0.16 * size), bx : bx + int(0.24 * size)]
        box[:] = (box * 0.4 + 0.6 * np.float32([217, 217, 204])).astype(np.uint8)
        lines = (
            f"{'RD'[int(rng.integers(2))]}C0",
            f"C={rng.uniform(5, 20):.3f} mm",
            f"A={rng.uniform(5, 30):.3f} mm^2",
            f"r={rng.uniform(1, 4):.3f} mm",
        )
        for i, text in enumerate(lines):
            _text(img, text, (bx + 4, by + int((i + 1) * 0.037 * size)), 0.022 * size, (25, 25, 205), th)


def _status_bar(rng: np.random.Generator, img: np.ndarray, th: int) -> np.ndarray:
    """A bar along the bottom: mostly plain light grey (as in the real frames), else grey with text."""
    size = img.shape[0]
    hidden = np.zeros(img.shape[:2], bool)
    if rng.random() < 0.7:
        hgt = max(4, round(size * rng.uniform(0.028, 0.034)))
        img[size - hgt :] = int(rng.integers(210, 232))
    else:
        hgt = max(6, int(0.022 * size))
        img[size - hgt :] = (np.float32([140, 143, 148]) * rng.uniform(0.7, 1.2)).astype(np.uint8)
        day, zoom = rng.integers(10, 31), rng.integers(30, 200)
        text = f"A{rng.integers(100, 999)} | 1280x1024 | 2022/01/{day} | x{zoom}"
        _text(img, text, (4, size - 2), 0.013 * size, (242, 242, 242), th)
    hidden[size - hgt :] = True
    return hidden


def _label_strip(rng: np.random.Generator, img: np.ndarray, th: int) -> np.ndarray:
    """Opaque dark-grey boxes along the top left, one label in each: ID, resolution, date, units, zoom."""
    size = img.shape[0]
    hidden = np.zeros(img.shape[:2], bool)
    y0, y1 = round(0.005 * size), round(0.043 * size)
    grey = int(rng.integers(70, 90))
    day, hour = rng.integers(1, 29), rng.integers(8, 18)
    labels = (
        f"{'AB'[int(rng.integers(2))]}{rng.integers(1, 999):03d}",
        "1280x1024",
        f"2022/{rng.integers(1, 13):02d}/{day:02d} {hour:02d}:{rng.integers(60):02d}:{rng.integers(60):02d}",
        "unit: mm",
        f"x{rng.choice([50, 70, 100, 200])}",
        "no calib.",
    )
    x = round(0.006 * size)
    for i, text in enumerate(labels):
        scale_h = 0.017 * size
        width = cv2.getTextSize(text, _FONT, scale_h / 22, th)[0][0] + round(0.012 * size)
        if x + width > size:
            break
        img[y0:y1, x : x + width] = grey
        hidden[y0:y1, x : x + width] = True
        col = (40, 230, 240) if i == 0 else (235, 235, 235)
        _text(img, text, (x + round(0.006 * size), round(0.032 * size)), scale_h, col, th)
        x += width + max(1, round(0.004 * size))
    return hidden


def lens_circle(rng: np.random.Generator, img: np.ndarray, zones: np.ndarray, hairs: np.ndarray):
    """A dermoscope's round field of view: black outside the lens circle (not scalp)."""
    size = img.shape[0]
    radius = rng.uniform(0.55, 0.72) * size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dist = np.sqrt((xx - size / 2) ** 2 + (yy - size / 2) ** 2)
    fall = np.clip((radius - dist) / (0.04 * size), 0, 1)
    img *= fall[..., None]
    dark = fall < 0.15
    zones[dark] = 0
    if len(hairs):
        hi = np.clip(np.round(hairs).astype(int), 0, size - 1)
        hairs = hairs[~dark[hi[:, 1], hi[:, 0]]]
    return img, zones, hairs
