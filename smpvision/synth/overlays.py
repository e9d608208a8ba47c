"""What capture software burns into close-ups: scale bar, measurement circle and text box, status bar.

Drawn after the optics (they are crisp) and before JPEG. A status bar hides the scalp, so its pixels are
background and hair points under it are dropped; thin graphics leave the zone labels unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def burn_in(rng: np.random.Generator, img: np.ndarray, zones: np.ndarray, hairs: np.ndarray, mm_px: float):
    size = img.shape[0]
    fs = size / 1000
    th = max(1, int(size / 500))
    if rng.random() < 0.5:  # scale bar, 1 mm
        bar = 1.0 / mm_px
        if bar < 0.6 * size:
            x0, y0 = int(size * rng.uniform(0.03, 0.2)), int(size * rng.uniform(0.8, 0.95))
            col = (25, 25, 25) if rng.random() < 0.6 else (242, 242, 242)
            cv2.line(img, (x0, y0), (x0 + int(bar), y0), col, th)
            cv2.line(img, (x0, y0), (x0, y0 - int(0.15 * size)), col, th)
            cv2.putText(
                img, "1.0 mm", (x0 + int(bar) - int(60 * fs), y0 - 3), _FONT, 0.9 * fs, col, th, cv2.LINE_AA
            )
    if rng.random() < 0.25:  # a measurement circle with its read-out box
        c = tuple(int(v) for v in rng.uniform(0.1, 0.6, 2) * size)
        cv2.circle(img, c, int(rng.uniform(0.3, 0.6) * size), (215, 40, 40), th, cv2.LINE_AA)
        bx, by = int(size * rng.uniform(0.55, 0.75)), int(size * rng.uniform(0.15, 0.4))
        box = img[by : by + int(0.1 * size), bx : bx + int(0.22 * size)]
        box[:] = (box * 0.4 + 0.6 * np.float32([217, 217, 204])).astype(np.uint8)
        for i, text in enumerate(
            ("RC0", f"C={rng.uniform(5, 20):.3f} mm", f"A={rng.uniform(5, 30):.3f} mm^2")
        ):
            cv2.putText(
                img,
                text,
                (bx + 4, by + int((i + 1) * 28 * fs)),
                _FONT,
                0.8 * fs,
                (25, 25, 205),
                th,
                cv2.LINE_AA,
            )
    if rng.random() < 0.25:  # device status bar along the bottom
        hgt = max(6, int(0.022 * size))
        img[size - hgt :] = (np.float32([140, 143, 148]) * rng.uniform(0.7, 1.2)).astype(np.uint8)
        day, zoom = rng.integers(10, 31), rng.integers(30, 200)
        text = f"A{rng.integers(100, 999)} | 1280x1024 | 2022/01/{day} | x{zoom}"
        cv2.putText(img, text, (4, size - 2), _FONT, 0.6 * fs, (242, 242, 242), th, cv2.LINE_AA)
        zones[size - hgt :] = 0
        if len(hairs):
            hairs = hairs[np.round(hairs[:, 1]) < size - hgt]
    return img, zones, hairs


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
