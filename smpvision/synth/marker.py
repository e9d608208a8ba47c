"""The calibration card (smpvision.analysis.calibration) held in an overview photo.

It is drawn into the scene before the camera stage, so it gets the same exposure, white balance,
vignetting, blur, noise and JPEG as the skin: that is what makes its grey patch a usable reference. It is
held flat, facing the camera, beside the head (at the shoulder or against the backdrop): it may overlap
the head's edge but never most of the scalp. What it hides becomes background and loses its hair points.

Its placement draws from its own generator (seeded from the sample's seed), so a photo with the card is the
photo without it plus the card: same head, same light, same camera.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..analysis.calibration import CARD_RECT_MM, GREY_PATCH_LAB, MARKER_ID, MARKER_SIDE_MM, draw_card
from .camera import apply_geometry
from .color import lab_to_rgb
from .scene import HIDDEN_VISIBLE, RenderedScene

MARKER_STREAM = 0x6D61726B  # "mark": the card's generator is independent of the photo's own draws
PAPER_LAB = (95.0, 0.0, 0.0)  # office paper reflects less than the sensor's white
INK_LAB = (14.0, 0.0, 0.0)  # printed black reflects a few per cent
EDGE_MARGIN = 0.08  # of the frame kept clear: the camera's perspective warp reflects content at the borders


def marker_rng(seed: int | tuple[int, ...] | list[int]) -> np.random.Generator:
    return np.random.default_rng([MARKER_STREAM, *np.atleast_1d(seed).tolist()])


def place_card(rng: np.random.Generator, scene: RenderedScene) -> np.ndarray:
    """Draw the card into scene.image (float 0..1), mark its pixels background in scene.zones, drop the
    hair points it hides; return the marker's four corners (ArUco order) in scene pixels."""
    size = scene.zones.shape[0]
    px_mm = 1.0 / scene.mm_per_px
    cx0, cy0, cx1, cy1 = CARD_RECT_MM
    card_mm = np.float32([[cx0, cy0], [cx1, cy0], [cx1, cy1], [cx0, cy1]])
    mid = card_mm.mean(0)
    angle = np.radians(rng.uniform(-35, 35) + (180 if rng.random() < 0.15 else 0))
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    # slight perspective: the card is not exactly parallel to the sensor
    tilt = rng.normal(0, 0.025, (4, 2)).astype(np.float32) * (cx1 - cx0)
    shape = ((card_mm - mid + tilt) @ rot.T) * px_mm  # card outline around its centre, scene px
    centre = _choose_centre(rng, scene.zones, shape)
    hmat = cv2.getPerspectiveTransform(card_mm, (shape + centre).astype(np.float32))

    # draw at a few texture pixels per scene pixel, pre-blurred, then warp: no aliasing at any scale
    ss = 3.0
    tex_ppm = px_mm * ss
    paper, ink, grey = (float(lab_to_rgb(np.float32(c)).mean()) for c in (PAPER_LAB, INK_LAB, GREY_PATCH_LAB))
    tex, affine = draw_card(tex_ppm, paper=paper, ink=ink, grey=grey)
    tex = cv2.GaussianBlur(tex, (0, 0), 0.45 * ss)
    to_mm = np.linalg.inv(np.vstack([affine, [0, 0, 1]]))  # texture px → card mm
    full = hmat @ to_mm
    alpha = cv2.warpPerspective(np.ones_like(tex), full, (size, size), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
    card = cv2.warpPerspective(tex, full, (size, size), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
    # held by hand: a little less light than squarely lit skin, and not perfectly even across the card
    light = rng.uniform(0.95, 1.0) * (1 + 0.02 * _ramp(rng, size, centre))
    a = alpha[..., None]
    scene.image = (scene.image * (1 - a) + (card * light)[..., None] * a).astype(np.float32)

    hidden = alpha > 0.5
    scene.zones[hidden] = 0
    if scene.hidden is not None:  # the card itself is plainly visible background
        scene.hidden[hidden] = HIDDEN_VISIBLE
    if len(scene.hairs):
        xi = np.clip(np.round(scene.hairs[:, 0]).astype(np.int64), 0, size - 1)
        yi = np.clip(np.round(scene.hairs[:, 1]).astype(np.int64), 0, size - 1)
        scene.hairs = scene.hairs[~hidden[yi, xi]]
    s = MARKER_SIDE_MM
    corners = np.float32([[0, 0], [s, 0], [s, s], [0, s]])
    return cv2.perspectiveTransform(corners[None], hmat)[0]


def _ramp(rng: np.random.Generator, size: int, centre: np.ndarray) -> np.ndarray:
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return ((xx - centre[0]) * np.cos(ang) + (yy - centre[1]) * np.sin(ang)) / size


def _choose_centre(rng: np.random.Generator, zones: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """A card position inside the frame (clear of the borders) that hides little scalp, near the head:
    among candidates hiding at most a quarter of the card's area in scalp (and a fifth of the scalp),
    the one closest to the scalp; failing that, the one hiding least."""
    size = zones.shape[0]
    scalp = (zones >= 1) & (zones <= 4)
    n_scalp = max(int(scalp.sum()), 1)
    ys, xs = np.nonzero(scalp)
    target = np.float32([xs.mean(), ys.mean()]) if len(xs) else np.float32([size / 2, size / 2])
    lo = shape.min(0) * -1 + EDGE_MARGIN * size
    hi = size - shape.max(0) - EDGE_MARGIN * size
    hi = np.maximum(hi, lo)  # a card too large for the frame is centred
    best, best_key = None, None
    for _ in range(24):
        c = rng.uniform(lo, hi).astype(np.float32)
        mask = np.zeros((size, size), np.uint8)
        cv2.fillConvexPoly(mask, np.round(shape + c).astype(np.int32), 1)
        hid = int((scalp & (mask > 0)).sum())
        ok = hid <= 0.25 * max(int(mask.sum()), 1) and hid <= 0.2 * n_scalp
        dist = float(np.linalg.norm(c - target)) * rng.uniform(0.8, 1.2)
        key = (0, dist) if ok else (1, hid)
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


def geometry_points(rng: np.random.Generator, size: int, perspective: float, pts: np.ndarray) -> np.ndarray:
    """Where `apply_geometry(rng, scene, perspective, rot90=True)` moves the points `pts` (n, 2).

    Runs apply_geometry itself on a copy of the generator with a probe scene whose only hair points
    are `pts` (all scalp, so none is dropped unless it leaves the frame): the same draws, the same
    transform, no second copy of the camera's geometry to keep in sync. All NaN if a point leaves the
    frame (the card keeps EDGE_MARGIN clear so that its corners do not)."""
    probe_rng = np.random.Generator(type(rng.bit_generator)())
    probe_rng.bit_generator.state = rng.bit_generator.state
    probe = RenderedScene(
        image=np.zeros((1, 1, 3), np.uint8), zones=np.ones((size, size), np.uint8),
        hairs=np.asarray(pts, np.float32).copy(), mm_per_px=1.0, region="", pattern="",
    )  # fmt: skip
    apply_geometry(probe_rng, probe, perspective=perspective, rot90=True)  # keeps the points' order
    if len(probe.hairs) != len(pts):
        return np.full((len(pts), 2), np.nan, np.float32)
    return probe.hairs


def marker_label(corners: np.ndarray) -> dict:
    return {
        "corners": np.round(corners.astype(np.float64), 2).tolist(),
        "side_mm": MARKER_SIDE_MM,
        "id": MARKER_ID,
        "grey_lab": list(GREY_PATCH_LAB),
    }
