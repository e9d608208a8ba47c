"""What a scene renderer hands to the camera stage, and backdrop/occluder pieces both scenes use."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .color import lab_to_rgb
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


# The in-focus interiors draw from their own generator (seeded from the photo's seed): every other draw,
# label and pixel of the head stays what it was before they existed (renderer 12).
ROOM_STREAM = 0x726F6F6D  # "room"
INTERIOR_SHARE = 0.5  # of whole-head photos: the rest keep the blurry room of backdrop()
_WOOD = np.array([[0.55, 0.38, 0.22], [0.72, 0.55, 0.36], [0.85, 0.72, 0.52], [0.4, 0.27, 0.17]], np.float32)


def room_rng(seed: int | tuple[int, ...] | list[int]) -> np.random.Generator:
    return np.random.default_rng([ROOM_STREAM, *np.atleast_1d(seed).tolist()])


def paint_colour(
    rng: np.random.Generator,
    lightness: tuple[float, float] = (62, 95),
    a: tuple[float, float] = (-8, 12),
    b: tuple[float, float] = (-4, 26),
) -> np.ndarray:
    """sRGB 0..1 of wall paint drawn in CIELAB. The defaults are the interiors' palette (whites, creams,
    beiges, peaches, pale pinks, mints and greys); the no-scalp walls pass their own, warmer ranges."""
    return lab_to_rgb(np.float32([rng.uniform(*lightness), rng.uniform(*a), rng.uniform(*b)]))


def interior(rng: np.random.Generator, size: int) -> np.ndarray:
    """An in-focus room behind or below the head, as phone photos of scalps show it: a pale painted wall,
    or a tiled or planked floor, lit unevenly, with straight sharp edges (door frames, a ceiling or
    skirting line, a switch or picture). Real whole-head photos have these; the blurry rooms of
    backdrop() do not, and models trained on them alone called pale walls and doors bald or scar."""
    big = int(size * 1.45) + 2  # drawn larger, then turned and cropped: the edges run at any angle
    wall = paint_colour(rng)
    img = np.ones((big, big, 3), np.float32) * wall
    surface = rng.random()
    if surface < 0.3:  # tiles with thin grout lines, each tile a touch lighter or darker
        step = max(int(rng.uniform(0.04, 0.2) * size), 6)
        tiles = -(-big // step)  # per side, the last one cut off
        gain = rng.uniform(0.96, 1.04, (tiles, tiles)).astype(np.float32)  # row by row, as one draw each
        img *= np.repeat(np.repeat(gain, step, 0), step, 1)[:big, :big, None]
        grout = (wall * rng.uniform(0.7, 1.08)).clip(0, 1)
        width = int(rng.integers(1, 4))
        for t in range(0, big, step):
            img[t : t + width] = grout
            img[:, t : t + width] = grout
    elif surface < 0.5:  # wooden planks: grain along each plank, a dark seam between
        wood = _WOOD[rng.integers(len(_WOOD))] * rng.uniform(0.8, 1.15)
        step = max(int(rng.uniform(0.06, 0.2) * size), 8)
        grain = smooth_noise(rng, big, big, rng.uniform(40, 120), 2)
        streak = smooth_noise(rng, big, big, rng.uniform(2, 6), 1)[:, :1]  # constant along the plank
        img = wood * (1 + 0.08 * grain[..., None] + 0.06 * streak[..., None])
        for y in range(0, big, step):
            img[y : y + step] *= rng.uniform(0.88, 1.1)
            img[y : y + 2] *= 0.6
    for _ in range(int(rng.integers(0, 4))):  # straight architecture in front of the surface
        element = rng.choice(["frame", "band", "plate"])
        colour = _WOOD[rng.integers(len(_WOOD))] if rng.random() < 0.4 else paint_colour(rng)
        colour = colour * rng.uniform(0.85, 1.1)
        edge = (colour * rng.uniform(0.55, 0.85)).tolist()
        if element == "frame":  # a door frame or a wall corner: a vertical band with darker edges
            x0 = int(rng.uniform(0.1, 0.9) * big)
            x1 = x0 + max(int(rng.uniform(0.02, 0.3) * size), 3)
            img[:, x0:x1] = colour
            cv2.line(img, (x0, 0), (x0, big), edge, int(rng.integers(1, 4)))
            cv2.line(img, (x1, 0), (x1, big), edge, int(rng.integers(1, 3)))
        elif element == "band":  # a ceiling, a skirting board or a tiled splash-back: everything past a line
            y0 = int(rng.uniform(0.1, 0.9) * big)
            rows = slice(0, y0) if rng.random() < 0.5 else slice(y0, big)
            img[rows] = colour
            cv2.line(img, (0, y0), (big, y0), edge, int(rng.integers(1, 4)))
        else:  # a switch plate, a socket or a picture frame
            w, h = (rng.uniform(0.04, 0.25, 2) * size).astype(int) + 4
            x0, y0 = (rng.uniform(0.15, 0.85, 2) * big).astype(int)
            cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour.tolist(), -1)
            cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), edge, int(rng.integers(1, 3)))
    t = np.linspace(-1, 1, big, dtype=np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(ang) * t[None, :] + np.sin(ang) * t[:, None]  # light falling off across the room
    falloff = rng.uniform(0.05, 0.3)  # drawn before the blotches: the order the trained renderer drew in
    blotch = smooth_noise(rng, big, big, rng.uniform(2, 6), 2)
    img *= (1 + falloff * ramp + 0.04 * blotch)[..., None]
    img += rng.normal(0, rng.uniform(0.003, 0.015), (big, big, 1)).astype(np.float32)  # plaster grain
    upright = rng.random() < 0.6  # most photos are held near upright; top-down ones turn any way
    angle = rng.normal(0, 12) if upright else rng.uniform(0, 360)
    turn = cv2.getRotationMatrix2D((big / 2, big / 2), angle, 1)
    img = cv2.warpAffine(img, turn, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    top = (big - size) // 2
    img = np.ascontiguousarray(img[top : top + size, top : top + size])
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2)).clip(0, 1).astype(np.float32)


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
