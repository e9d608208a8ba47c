"""Scar shapes (image-space masks) and scar colours; shared by overview and close-up scenes."""

from __future__ import annotations

import cv2
import numpy as np

from .color import lab_to_rgb


def scar_lab(rng: np.random.Generator, skin_lab: tuple[float, float, float], kind: str) -> np.ndarray:
    """Flat scars are hypopigmented (paler, less saturated); raised ones redder, or darker on dark skin."""
    L, a, b = skin_lab
    if kind == "raised":
        dark_skin = L < 48
        return np.array(
            [L - rng.uniform(4, 12) if dark_skin else L - rng.uniform(-2, 6), a + rng.uniform(6, 16), b],
            np.float32,
        )
    return np.array(
        [min(L + rng.uniform(6, 16), 92), a * rng.uniform(0.5, 0.85), b * rng.uniform(0.55, 0.85)], np.float32
    )


def scar_rgb(rng: np.random.Generator, skin_lab: tuple[float, float, float], kind: str) -> np.ndarray:
    return lab_to_rgb(scar_lab(rng, skin_lab, kind))


def random_walk_mask(
    rng: np.random.Generator,
    shape: tuple[int, int],
    start: tuple[float, float],
    step_px: float,
    thickness_px: float,
    points: int,
) -> np.ndarray:
    """Irregular (traumatic/surgical) scar: a bent, thick line."""
    angle = rng.uniform(0, 2 * np.pi)
    pts = [np.array(start, np.float64)]
    for _ in range(points - 1):
        angle += rng.normal(0, 0.7)
        pts.append(pts[-1] + step_px * rng.uniform(0.5, 1.2) * np.array([np.cos(angle), np.sin(angle)]))
    mask = np.zeros(shape, np.uint8)
    poly = np.round(np.array(pts) * 16).astype(np.int32)
    cv2.polylines(mask, [poly], False, 1, max(1, int(round(thickness_px))), cv2.LINE_8, shift=4)
    return mask


def blob_mask(
    rng: np.random.Generator,
    shape: tuple[int, int],
    centre: tuple[float, float],
    length_px: float,
    width_px: float,
) -> np.ndarray:
    """Raised (hypertrophic/keloid) scar: an elongated lumpy blob."""
    mask = np.zeros(shape, np.uint8)
    angle = float(rng.uniform(0, 180))
    c = (int(round(centre[0])), int(round(centre[1])))
    axes = (max(1, int(length_px / 2)), max(1, int(width_px / 2)))
    cv2.ellipse(mask, c, axes, angle, 0, 360, 1, -1)
    for _ in range(int(rng.integers(1, 4))):  # lumps
        off = rng.normal(0, 0.3, 2) * np.array(axes) * 1.5
        r = max(1, int(width_px * rng.uniform(0.3, 0.6)))
        cv2.circle(mask, (c[0] + int(off[0]), c[1] + int(off[1])), r, 1, -1)
    return mask


def relief_shading(
    mask: np.ndarray, light_xy: tuple[float, float], sigma: float, strength: float
) -> np.ndarray:
    """Multiplicative shading of a raised scar lit from `light_xy` (a bump map from the blurred mask)."""
    height = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), max(sigma, 0.5))
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3)
    shade = -(gx * light_xy[0] + gy * light_xy[1]) * strength
    return (1.0 + np.clip(shade, -0.5, 0.5)).astype(np.float32)
