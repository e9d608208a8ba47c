"""The camera stage: what a phone or dermoscope does to a scene (geometry, light, optics, sensor, JPEG).

Geometric changes move image, zone mask and hair points together; hair points that end up outside the
frame or off hair-bearing scalp after resampling are dropped so labels stay exact.
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np

from .noise import smooth_noise
from .scene import RenderedScene


def _homography(rng: np.random.Generator, size: int, strength: float) -> np.ndarray:
    src = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    dst = src + rng.uniform(-strength, strength, (4, 2)).astype(np.float32) * size
    return cv2.getPerspectiveTransform(src, dst)


# per-pixel label maps of a scene besides its zones: they move with the image
_PER_PIXEL_LABELS = ("relative_density", "hidden")


def apply_geometry(rng: np.random.Generator, scene: RenderedScene, perspective: float, rot90: bool) -> None:
    size = scene.zones.shape[0]
    if perspective > 0:
        hmat = _homography(rng, size, perspective)
        scene.image = cv2.warpPerspective(scene.image, hmat, (size, size), flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        scene.zones = cv2.warpPerspective(scene.zones, hmat, (size, size), flags=cv2.INTER_NEAREST,
                                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
        for name in _PER_PIXEL_LABELS:
            extra = getattr(scene, name)
            if extra is not None:
                setattr(scene, name, cv2.warpPerspective(extra, hmat, (size, size), flags=cv2.INTER_NEAREST,
                                                         borderMode=cv2.BORDER_REFLECT))  # fmt: skip
        if len(scene.hairs):
            scene.hairs = cv2.perspectiveTransform(scene.hairs[None].astype(np.float64), hmat)[0].astype(
                np.float32
            )
    if rot90:
        k = int(rng.integers(4))
        scene.image = np.ascontiguousarray(np.rot90(scene.image, k))
        scene.zones = np.ascontiguousarray(np.rot90(scene.zones, k))
        for name in _PER_PIXEL_LABELS:
            if getattr(scene, name) is not None:
                setattr(scene, name, np.ascontiguousarray(np.rot90(getattr(scene, name), k)))
        for _ in range(k):  # np.rot90 turns counter-clockwise: (x, y) → (y, size − 1 − x)
            scene.hairs = (
                np.stack([scene.hairs[:, 1], size - 1 - scene.hairs[:, 0]], 1)
                if len(scene.hairs)
                else scene.hairs
            )
    if len(scene.hairs):
        xi = np.round(scene.hairs[:, 0]).astype(np.int64)
        yi = np.round(scene.hairs[:, 1]).astype(np.int64)
        inside = (xi >= 0) & (xi < size) & (yi >= 0) & (yi < size)
        keep = inside.copy()
        z = scene.zones[yi[inside], xi[inside]]
        keep[inside] = (z >= 1) & (z <= 3)
        scene.hairs = scene.hairs[keep]


# camera parts `apply_photometric` can switch off, to measure what each one costs an analysis
CAMERA_PARTS = ("vignette", "uneven_light", "flash")


def exposure_gain(rng: np.random.Generator, closeup: bool) -> np.ndarray:
    """The camera's per-channel gain on linear-ish pixel values: exposure (one factor) × white balance (one
    per channel), plus the blue-white cast of a polarised dermoscope on half the close-ups. A function of
    its own so benchmarks can ask what this alone does to a colour reading taken without a reference."""
    gain = rng.uniform(0.7, 1.25) * np.exp(rng.normal(0, 0.06, 3)).astype(np.float32)
    if closeup and rng.random() < 0.5:  # polarised dermoscope LEDs look cold and blue-white
        gain *= np.float32([0.92, 0.98, 1.12])
    return gain


def apply_photometric(
    rng: np.random.Generator, img: np.ndarray, closeup: bool, off: Collection[str] = ()
) -> np.ndarray:
    """Exposure, white balance, vignetting, uneven light, flash hotspot, optical blur, sensor noise; returns
    float 0..1. `off` names parts of CAMERA_PARTS to leave out; the random draws are taken all the same, so
    the photo is otherwise identical to the one with every part on."""
    unknown = set(off) - set(CAMERA_PARTS)
    if unknown:
        raise ValueError(f"unknown camera part(s) {sorted(unknown)}; valid: {', '.join(CAMERA_PARTS)}")
    h, w = img.shape[:2]
    gain = exposure_gain(rng, closeup)
    yy, xx = np.ogrid[0:h, 0:w]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
    r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (0.5 * (h * h + w * w))
    vignette = 1 - rng.uniform(0.0, 0.5 if closeup else 0.35) * r2 * ("vignette" not in off)
    uneven = (0.05 if closeup else 0.12) * smooth_noise(rng, h, w, 2, 2)
    if "uneven_light" not in off:
        vignette = vignette * (1.0 + uneven)
    img = img * (vignette[..., None] * gain.astype(np.float32))  # one pass for all three
    if rng.random() < (0.25 if not closeup else 0.1):  # flash hotspot
        hot = np.exp(-r2 / rng.uniform(0.02, 0.15)) * rng.uniform(0.1, 0.35)
        if "flash" not in off:
            img = img + hot[..., None]
    blur = rng.random()
    if blur < 0.45:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.6 if closeup else 1.2))
    elif blur < 0.6:
        k = int(rng.integers(3, 8))
        kern = np.zeros((k, k), np.float32)
        cv2.line(kern, (0, k // 2), (k - 1, k // 2), 1.0)
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kern = cv2.warpAffine(kern, rot, (k, k))
        img = cv2.filter2D(img, -1, kern / max(float(kern.sum()), 1e-6))
    sigma = rng.uniform(0.003, 0.03)
    # shot noise, mostly in luminance after the phone's processing; grows with brightness
    luma = rng.standard_normal((h, w), dtype=np.float32) * sigma * np.sqrt(np.clip(img[..., 1], 0.02, 1))
    img = img + luma[..., None]
    return np.clip(img, 0, 1)


def quantise(img: np.ndarray) -> np.ndarray:
    """0..1 float → uint8 with rounding and saturation (OpenCV: one pass instead of three)."""
    return cv2.convertScaleAbs(img, alpha=255.0)


def jpeg_roundtrip(rng: np.random.Generator, u8: np.ndarray) -> np.ndarray:
    """Pass through a JPEG round trip most of the time (phones and dermoscopes save JPEG)."""
    if rng.random() < 0.85:
        ok, buf = cv2.imencode(".jpg", u8[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 96))])
        u8 = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(u8)
