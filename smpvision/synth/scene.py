"""What a scene renderer hands to the camera stage, and backdrop/occluder pieces both scenes use."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .noise import smooth_noise

# RenderedScene.hidden values: the drawn zone shows; scalp whose hair / thinning / bald zone does not show;
# not even scalp vs background shows (bald scalp running into the forehead)
HIDDEN_VISIBLE, HIDDEN_ZONE, HIDDEN_SCALP_EDGE = 0, 1, 2


@dataclass
class RenderedScene:
    image: np.ndarray  # (H, W, 3) float32 sRGB 0..1 from the scene; uint8 once the camera quantises it
    zones: np.ndarray  # (H, W) uint8 class ids
    hairs: np.ndarray  # (n, 2) float32 xy of hair exit points (pixel centres are integers)
    mm_per_px: float
    region: str
    pattern: str
    scars: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # anything else known (hair length, form, density …)
    # (H, W) float32 relative hair density D the zones were thresholded from (1 = the client's full
    # density); a training target, not part of the label files
    relative_density: np.ndarray | None = None
    # (H, W) uint8: where the drawn zone cannot be seen in the pixels (HIDDEN_* below); None
    # where every label is visible (close-ups, no-scalp scenes)
    hidden: np.ndarray | None = None


def sample_exits(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Poisson hair exits from an expected-count-per-pixel map; jitter stays inside the pixel."""
    flat = lam.ravel()
    nz = np.flatnonzero(flat > 0)  # the head rarely fills the frame: skip empty pixels
    counts = rng.poisson(flat[nz])
    idx = np.repeat(nz, counts)
    w = lam.shape[1]
    xy = np.stack([idx % w, idx // w], 1).astype(np.float32)
    return xy + rng.uniform(-0.499, 0.499, xy.shape).astype(np.float32)


_ROOM_COLOURS = np.array(
    [
        [0.92, 0.9, 0.86], [0.8, 0.78, 0.74], [0.62, 0.6, 0.58], [0.45, 0.36, 0.28], [0.7, 0.55, 0.4],
        [0.55, 0.65, 0.75], [0.3, 0.35, 0.45], [0.85, 0.85, 0.9], [0.2, 0.2, 0.22], [0.6, 0.7, 0.55],
    ],
    np.float32,
)  # fmt: skip


def backdrop(rng: np.random.Generator, size: int) -> np.ndarray:
    """A blurry room or studio behind the head: gradient walls, furniture blocks, a window or lamp.

    Drawn at half size (it is out of focus) and upsampled."""
    full, size = size, (size + 1) // 2
    c0, c1 = _ROOM_COLOURS[rng.choice(len(_ROOM_COLOURS), 2)] * rng.uniform(0.75, 1.1)
    t = np.linspace(0, 1, size, dtype=np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = np.cos(ang) * t[None, :] + np.sin(ang) * t[:, None]
    grad = (grad - grad.min()) / max(float(np.ptp(grad)), 1e-6)
    img = c0 * (1 - grad[..., None]) + c1 * grad[..., None]
    for _ in range(int(rng.integers(1, 7))):
        col = np.clip(
            _ROOM_COLOURS[rng.integers(len(_ROOM_COLOURS))] * rng.uniform(0.6, 1.1) + rng.normal(0, 0.05, 3),
            0,
            1,
        )
        p0 = rng.uniform(-0.2, 1.0, 2) * size
        p1 = p0 + rng.uniform(0.1, 0.7, 2) * size
        if rng.random() < 0.6:
            cv2.rectangle(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), col.tolist(), -1)
        else:
            centre = tuple(int(v) for v in (p0 + p1) / 2)
            axes = tuple(int(v) for v in (p1 - p0) / 2)
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, col.tolist(), -1)
    img *= 1.0 + 0.1 * smooth_noise(rng, size, size, rng.uniform(4, 30), 3, 0.7)[..., None]  # clutter
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 2.0))
    return cv2.resize(img, (full, full), interpolation=cv2.INTER_LINEAR)


def draw_hands(
    rng: np.random.Generator,
    canvas: np.ndarray | None,
    mask: np.ndarray | None,
    skin_rgb: np.ndarray,
    size: int,
) -> None:
    """Fingers entering from an edge (a hand holding hair aside, or steadying the head)."""
    edge = int(rng.integers(4))
    base = rng.uniform(0.15, 0.85) * size
    inward = rng.uniform(0.12, 0.35) * size
    width = rng.uniform(0.035, 0.06) * size
    angle = {0: 90.0, 1: 270.0, 2: 0.0, 3: 180.0}[edge] + rng.normal(0, 15)
    d = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
    perp = np.array([-d[1], d[0]])
    start = {0: (base, 0), 1: (base, size), 2: (0, base), 3: (size, base)}[edge]
    col = (skin_rgb * rng.uniform(0.85, 1.1)).clip(0, 1)
    for i in range(int(rng.integers(2, 5))):
        s = np.array(start) + perp * (i - 1.5) * width * 1.05
        e = s + d * inward * rng.uniform(0.8, 1.1)
        shade = (col * rng.uniform(0.9, 1.05)).tolist()
        for arr, value in ((canvas, shade), (mask, 1)):
            if arr is None:
                continue
            cv2.line(arr, tuple(int(v) for v in s), tuple(int(v) for v in e), value, int(width))
            cv2.circle(arr, tuple(int(v) for v in e), int(width / 2), value, -1)


def marker_lines(rng: np.random.Generator, canvas: np.ndarray, region_mask: np.ndarray) -> None:
    """Surgical-marker design lines an SMP artist draws on the scalp (hairline, zone borders)."""
    ys, xs = np.nonzero(region_mask)
    if len(xs) < 50:
        return
    col = [np.array([0.2, 0.25, 0.7]), np.array([0.45, 0.2, 0.55]), np.array([0.1, 0.1, 0.1]),
           np.array([0.9, 0.9, 0.9])][int(rng.integers(4))]  # fmt: skip
    h = canvas.shape[0]
    for _ in range(int(rng.integers(1, 3))):
        i = rng.integers(len(xs))
        p = np.array([xs[i], ys[i]], np.float64)
        ang = rng.uniform(0, 2 * np.pi)
        pts = []
        for _ in range(int(rng.integers(3, 7))):
            pts.append(p.copy())
            ang += rng.normal(0, 0.35)
            p = p + rng.uniform(0.04, 0.1) * h * np.array([np.cos(ang), np.sin(ang)])
        poly = np.round(np.array(pts) * 16).astype(np.int32)
        cv2.polylines(canvas, [poly], False, col.tolist(), max(1, int(h / 300)), cv2.LINE_AA, shift=4)
