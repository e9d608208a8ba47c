"""Overview photos: a head seen from the top, front, crown, back or side, with what surrounds it.

The head is a unit sphere in the head frame (x side, y front, z up) seen by an orthographic camera; every
visible pixel knows its 3D point, so loss patterns, hairlines, hair flow and scars are defined once on the
head and stay consistent across views.
"""

from __future__ import annotations

import cv2
import numpy as np

from .color import HairColour, SkinTone, lab_to_rgb
from .hair import splat_strands, strand_budget
from .noise import smooth_noise
from .patterns import BALD_MAX, LossPattern, hairline_elevation, sample_pattern, unit, zones_from_density
from .scars import blob_mask, random_walk_mask, relief_shading, scar_rgb
from .scene import (
    HIDDEN_SCALP_EDGE,
    HIDDEN_ZONE,
    INTERIOR_SHARE,
    RenderedScene,
    backdrop,
    draw_hands,
    interior,
    marker_lines,
    sample_exits,
)

HEAD_RADIUS_MM = 85.0
# camera azimuth/elevation ranges (degrees) per region; azimuth 0 = in front of the face
REGION_CAMERA: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "top": ((-180, 180), (68, 90)),
    "front": ((-28, 28), (22, 60)),
    "crown": ((145, 215), (42, 75)),
    "back": ((145, 215), (-8, 32)),
    "side": ((62, 118), (0, 42)),
}
WHORL = unit(180, 68)
# Label visibility (RenderedScene.hidden): what a zone's pixels must show for its class to be learnable.
COVERED_BALD = 0.3  # strand coverage over bald scalp from which it reads as thinning or hair
COVERED_THINNING = 0.8  # ... over thinning scalp from which it reads as full hair
HAIR_CONTRAST_MIN = 0.02  # mean |luma change| (0..1) hair must make to skin for the zone to show
HAIRLINE_BAND_DEG = 6.0  # bald scalp meets the forehead without an edge: neither side is known here
# channels of the per-pixel head fields (see _head_fields)
F_DENSITY, F_MARGIN, F_FLOW, F_DIFFUSE, F_SPEC, F_MOTTLE, F_RED, F_FLEN = (
    0,
    1,
    2,
    4,
    5,
    6,
    7,
    8,
)  # F_FLOW: x, y
_FLOW = slice(F_FLOW, F_FLOW + 2)


def camera_matrix(az: float, el: float, roll: float) -> np.ndarray:
    """Rows: camera x (image right), y (image up), z (towards the camera), in head coordinates."""
    z = unit(az, el).astype(np.float64)
    up = np.array([0.0, 0.0, 1.0]) if abs(z[2]) < 0.93 else -np.sign(z[2]) * unit(az, 0)
    y = up - (up @ z) * z
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
    x, y = c * x + s * y, -s * x + c * y
    return np.stack([x, y, z]).astype(np.float32)


def _tangent(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    t = v - (v * p).sum(-1, keepdims=True) * p
    return t / np.maximum(np.linalg.norm(t, axis=-1, keepdims=True), 1e-6)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.cross for (..., 3) arrays without its axis bookkeeping (several times faster here)."""
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], -1)


def growth_direction(p: np.ndarray, gravity: float) -> np.ndarray:
    """Hair grows away from the crown whorl (with a swirl near it); long hair also falls with gravity."""
    away = _tangent(p, p - WHORL)
    near = np.exp(-np.degrees(np.arccos(np.clip(p @ WHORL, -1, 1))) / 18.0)[..., None]
    g = away + 0.8 * near * _cross(p, away)
    if gravity:
        g = g + gravity * _tangent(p, np.array([0, 0, -1.0], np.float32))
    return _tangent(p, g)


class _Projector:
    def __init__(self, m: np.ndarray, cx: float, cy: float, r: float, ax: float, ay: float, size: int):
        self.m, self.cx, self.cy, self.r, self.ax, self.ay, self.size = m, cx, cy, r, ax, ay, size

    def __call__(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = pts @ self.m.T
        xy = np.stack([self.cx + self.r * self.ax * q[:, 0], self.cy - self.r * self.ay * q[:, 1]], 1)
        return xy, q[:, 2]

    def fill(self, canvas: np.ndarray, pts: np.ndarray, colour) -> None:
        xy, _ = self(pts)
        hull = cv2.convexHull(np.round(xy * 16).astype(np.int32))
        cv2.fillConvexPoly(canvas, hull, colour, cv2.LINE_AA, shift=4)


def _ellipsoid(centre, radii, n: int = 120) -> np.ndarray:
    u = np.random.default_rng(0).normal(size=(n, 3))  # fixed directions: only the hull matters
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return (np.asarray(centre) + u * np.asarray(radii)).astype(np.float32)


def render_overview(
    rng: np.random.Generator, size: int, region: str, skin: SkinTone, hair: HairColour,
    style: str, length_mm: float, form: str, density_cm2: float, pattern: LossPattern | None = None,
    room: np.random.Generator | None = None,
) -> RenderedScene:  # fmt: skip
    (az0, az1), (el0, el1) = REGION_CAMERA[region]
    az = rng.uniform(az0, az1) * (rng.choice([-1, 1]) if region == "side" else 1)
    m = camera_matrix(az, rng.uniform(el0, el1), rng.normal(0, 12))
    r = size * rng.uniform(0.3, 0.6)  # real scalp photos are taken close: the head fills most of it
    ax, ay = (rng.uniform(0.86, 1.0), 1.0) if rng.random() < 0.5 else (1.0, rng.uniform(0.86, 1.0))
    cx, cy = size * rng.uniform(0.3, 0.7), size * rng.uniform(0.3, 0.7)
    proj = _Projector(m, cx, cy, r, ax, ay, size)
    mm_px = HEAD_RADIUS_MM / r
    skin_rgb = lab_to_rgb(np.array(skin.lab))
    pattern = pattern or sample_pattern(rng)

    canvas = backdrop(rng, size)  # drawn even when replaced: the head's draws stay those of renderer 12
    if room is not None and room.random() < INTERIOR_SHARE:
        canvas = interior(room, size)
    # clothes and capes are mostly dark or muted: a grey base with a little colour
    grey = rng.uniform(0.05, 0.75)
    cloth = np.clip(grey + rng.normal(0, 0.08, 3) * (grey + 0.2), 0, 1)
    proj.fill(canvas, _ellipsoid((0, -0.1, -2.4), (2.4, 1.3, 0.7)), cloth.tolist())
    proj.fill(canvas, _ellipsoid((0, -0.05, -1.2), (0.52, 0.52, 0.75)), (skin_rgb * 0.82).tolist())
    jaw_col = skin_rgb * 0.93
    proj.fill(canvas, _ellipsoid((0, 0.3, -0.8), (0.7, 0.7, 0.62)), jaw_col.tolist())

    # ---- head fields: smooth, so computed at reduced resolution and upsampled in one resize
    fields = _head_fields(rng, size, proj, pattern, style)
    yy, xx = np.ogrid[0:size, 0:size]
    rho = ((xx.astype(np.float32) - cx) / (r * ax)) ** 2 + ((yy.astype(np.float32) - cy) / (r * ay)) ** 2
    head = rho < 1.0
    # how squarely the skin faces the camera (floored at the rim): foreshortens hair counts and shadows
    facing = np.maximum(np.sqrt(np.clip(1 - rho, 0, 1)), 0.2)
    d = fields[..., F_DENSITY]
    scalp = head & (fields[..., F_MARGIN] > 0)
    zones = zones_from_density(d)
    zones[~scalp] = 0

    # ---- scars
    scar_mask, scars = _scars(rng, size, proj, fields, zones, mm_px, region)
    zones[scar_mask > 0] = 4
    scar_col = scar_rgb(rng, skin.lab, scars[0]["type"]) if scars else None

    # ---- occluders drawn over the head later (ears, hands): they hide scalp, so they shape the labels
    # Drawn twice from one seed: the mask now (labels, hair exits), the pixels after the hair.
    occ_seed = int(rng.integers(2**63))
    with_hands = rng.random() < 0.12
    occ = np.zeros((size, size), np.uint8)
    _occluders(np.random.default_rng(occ_seed), proj, None, occ, skin_rgb, r, with_hands)
    zones[occ > 0] = 0

    # ---- hair exits: Poisson with expected hairs per pixel (foreshortened area), none on scars
    hb = _head_box(proj, 1)
    zb, db = zones[hb], d[hb]
    area_cm2 = (mm_px / 10.0) ** 2 / facing[hb]
    lam = np.clip(np.where(db < BALD_MAX, db * 0.4, db), 0, 1.3) * (density_cm2 * area_cm2)
    lam[(zb < 1) | (zb > 3)] = 0
    exits = sample_exits(rng, lam.astype(np.float32)) + np.float32([hb[1].start, hb[0].start])

    # ---- strands along the image-space growth direction (a bounded subset carries all hairs' area)
    ei = np.round(exits).astype(np.int32)
    flen_all = fields[ei[:, 1], ei[:, 0], F_FLEN]
    mini_all = np.clip(d[ei[:, 1], ei[:, 0]] / 0.8, 0.25, 1.0)  # miniaturised hairs: finer, shorter
    # stubble stands up from the skin: its visible length is mostly the cut shaft seen at an angle
    shaft_all = rng.uniform(0.06, 0.1) * mini_all
    vis_all = np.maximum(length_mm * mini_all * np.maximum(flen_all, 0.35), shaft_all * 1.5)
    n_all = len(exits)
    keep = np.arange(n_all)
    budget = strand_budget(vis_all / mm_px)
    if n_all > budget:
        keep = rng.choice(n_all, budget, replace=False)
    n = len(keep)
    ex, ey = ei[keep, 0], ei[keep, 1]
    fdir = fields[ey, ex, _FLOW]
    fdir = fdir / np.maximum(np.linalg.norm(fdir, axis=1), 1e-6)[:, None]
    mini = mini_all[keep]
    shaft_mm = shaft_all[keep] * rng.uniform(0.85, 1.15, n) * (n_all / max(n, 1))
    vis_len = vis_all[keep]
    strand_col = hair.strand_rgb(rng, n)
    m_ = mini[:, None]
    strand_col = strand_col * (m_ + (1 - m_) * 0.4) + skin_rgb * (1 - m_) * 0.6
    flow = fields[..., _FLOW] if style == "long" else None  # unit length at the coarse grid
    layer = splat_strands(
        rng, (size, size), exits[keep], fdir, vis_len / mm_px, shaft_mm / mm_px * 1.6, strand_col,
        form=form, flow=flow, follow=0.25,
    )  # fmt: skip

    # ---- skin, shading, composite: only inside the head's box (plus the longest strand)
    reach = int(np.ceil(float(vis_len.max(initial=0)) / mm_px)) + 2
    b = _head_box(proj, reach)
    fb = fields[b]
    diffuse, spec, cov = fb[..., F_DIFFUSE], fb[..., F_SPEC], layer.coverage[b]
    shade = diffuse * (1 + fb[..., F_MOTTLE])
    hair_cover = np.clip(d[b], 0, 1) * scalp[b]  # 1 where hair grows at the client's full density
    # a bald scalp shines; stubble and hair scatter the light: shine is the cue that separates bald
    # from shaved-but-haired skin in a whole-head photo, where single stubbles are below a pixel
    spec = spec * (1 - 0.8 * hair_cover)
    red = shade * (1 - fb[..., F_RED])
    skin_px = np.stack([shade, red, red], -1) * skin_rgb
    bare_luma = _luma(skin_px) + fb[..., F_SPEC]  # this skin bald: no hair, no follicle shadow, full shine
    # every follicle shows through the skin: the shaft runs 2-4 mm obliquely under the epidermis, so a
    # shaved or clipped hair-bearing scalp reads as a dotted grey-blue shadow that bald scalp lacks (the
    # shadow SMP imitates). Drawn per hair from the exits, so it is as dense and as grainy as the hairs;
    # its own generator (from a drawn seed) leaves the camera's random draws where they were.
    under = _follicle_shadow(np.random.default_rng([occ_seed, 1]), ei, b, mm_px, facing[b])
    under_rgb = lab_to_rgb(np.array(hair.mean_lab)) * 0.85 * np.float32([0.96, 0.98, 1.04]) + skin_rgb * 0.15
    skin_px += under[..., None] * (under_rgb * shade[..., None] - skin_px)
    skin_px += (spec * (1 - cov) * (1 - under))[..., None]
    if scar_col is not None:  # blended only inside the scar's own box (plus the blur's reach)
        ys, xs = np.nonzero(scar_mask[b])
        sb = (slice(max(ys.min() - 4, 0), ys.max() + 5), slice(max(xs.min() - 4, 0), xs.max() + 5))
        sm = scar_mask[b][sb]
        soft = cv2.GaussianBlur(sm.astype(np.float32), (0, 0), 0.7)[..., None]
        skin_px[sb] = skin_px[sb] * (1 - soft) + scar_col * diffuse[sb][..., None] * soft
        if scars[0]["type"] == "raised":
            skin_px[sb] *= relief_shading(sm, (0.6, -0.6), 2.5, 3.0)[..., None]
            skin_px[sb] += (0.15 * sm)[..., None]
    box = np.where(head[b][..., None], skin_px, canvas[b])
    hair_rgb = layer.colour[b] * (diffuse * 0.95 + 0.3 * spec)[..., None]
    canvas[b] = box + cov[..., None] * (hair_rgb - box)
    hidden = _hidden_zones(zones, b, layer.coverage[b], np.abs(_luma(canvas[b]) - bare_luma), size)
    edge = head & (np.abs(fields[..., F_MARGIN]) < HAIRLINE_BAND_DEG) & (d < BALD_MAX)
    hidden[edge & (occ == 0) & (zones != 4)] = HIDDEN_SCALP_EDGE

    _face_features(rng, proj, canvas, hair, r)
    _occluders(np.random.default_rng(occ_seed), proj, canvas, None, skin_rgb, r, with_hands)
    if rng.random() < 0.1:
        marker_lines(rng, canvas, (zones >= 1) & (zones <= 3))

    scalp_total = max(int(((zones >= 1) & (zones <= 4)).sum()), 1)
    for s in scars:
        s["fraction_of_scalp"] = round(float(s.pop("_pixels")) / scalp_total, 5)
    return RenderedScene(
        image=np.clip(canvas, 0, 1).astype(np.float32),
        zones=zones,
        hairs=exits,
        mm_per_px=float(mm_px),
        region=region,
        pattern=pattern.name,
        scars=[s for s in scars if s["fraction_of_scalp"] > 0],
        relative_density=np.clip(d, 0, 1).astype(np.float32),
        hidden=hidden,
    )


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.float32([0.299, 0.587, 0.114])


def _hidden_zones(
    zones: np.ndarray, box: tuple[slice, slice], coverage: np.ndarray, hair_contrast: np.ndarray, size: int
) -> np.ndarray:
    """Where the drawn hair / thinning / bald zone cannot be told from the pixels (HIDDEN_ZONE), judged
    at about the scale the model sees (a blur of size/128 px):
    - thinning or bald scalp under strands grown elsewhere (long hair lying over it) that cover it as
      much as a thinning (bald) or a full (thinning) zone would be covered;
    - hair or thinning zones whose hair barely changes the pixels from bald skin (shaved white or grey
      hair, hair the colour of the skin): `hair_contrast` is |luma − luma of the same skin bald|.
    coverage and hair_contrast are over `box`; the result is full size, HIDDEN_VISIBLE outside it."""
    sigma = max(1.0, size / 128)
    cov = cv2.GaussianBlur(coverage.astype(np.float32), (0, 0), sigma)
    contrast = cv2.GaussianBlur(hair_contrast.astype(np.float32), (0, 0), sigma)
    zb = zones[box]
    hidden_b = (
        ((zb == 3) & (cov >= COVERED_BALD))
        | ((zb == 2) & (cov >= COVERED_THINNING))
        | (((zb == 1) | (zb == 2)) & (contrast < HAIR_CONTRAST_MIN))
    )
    hidden = np.zeros(zones.shape, np.uint8)
    hidden[box][hidden_b] = HIDDEN_ZONE
    return hidden


def _follicle_shadow(
    rng: np.random.Generator, exit_px: np.ndarray, box: tuple[slice, slice], mm_px: float, facing: np.ndarray
) -> np.ndarray:
    """Share of each pixel in `box` darkened by hair under the skin: 1 − exp(−hairs × shadow area / pixel
    area), with 0.15–0.4 mm² of shadow per hair, foreshortened by `facing` (the box's) like the skin.
    exit_px: (n, 2) integer xy of the hair exits' pixels; those outside the box are ignored."""
    area_mm2 = rng.uniform(0.15, 0.4)
    h, w = facing.shape
    x, y = exit_px[:, 0] - box[1].start, exit_px[:, 1] - box[0].start
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    counts = np.bincount(y[inside] * w + x[inside], minlength=h * w).reshape(h, w)
    seen = area_mm2 * facing / (mm_px * mm_px)
    shadow = 1.0 - np.exp(-counts.astype(np.float32) * seen.astype(np.float32))
    return cv2.GaussianBlur(shadow, (0, 0), 0.6)  # a shaft is narrower than a pixel: no hard squares


def _head_box(proj: _Projector, pad: int) -> tuple[slice, slice]:
    """Rows and columns of the projected head ellipse, grown by `pad` px, clipped to the frame."""
    ry, rx = proj.r * proj.ay, proj.r * proj.ax
    rows = slice(max(int(proj.cy - ry) - pad, 0), min(int(proj.cy + ry) + pad + 2, proj.size))
    cols = slice(max(int(proj.cx - rx) - pad, 0), min(int(proj.cx + rx) + pad + 2, proj.size))
    return rows, cols


def _occluders(rng, proj: _Projector, canvas, mask, skin_rgb, r: float, with_hands: bool) -> None:
    for side in (-1, 1):
        _ear(rng, proj, side, canvas, mask, skin_rgb, r)
    if with_hands:
        draw_hands(rng, canvas, mask, skin_rgb, proj.size)


def _ear(rng, proj: _Projector, side: int, canvas, mask, skin_rgb, r: float) -> None:
    anchor = np.array([[side * 1.0, -0.08, -0.18]], np.float32)
    xy, depth = proj(anchor)
    if depth[0] < -0.25:
        return
    centre_xy, _ = proj(np.array([[0, 0, 0]], np.float32))
    out = xy[0] - centre_xy[0]
    out = out / max(np.linalg.norm(out), 1e-6)
    c = xy[0] + out * r * 0.08
    up_xy, _ = proj(np.array([[0, 0, 1]], np.float32))
    up = up_xy[0] - centre_xy[0]
    angle = float(np.degrees(np.arctan2(up[1], up[0])))
    axes = (int(r * 0.3), int(r * max(0.1, 0.2 * (1 - abs(depth[0])) + 0.05)))
    ci = (int(c[0]), int(c[1]))
    col = skin_rgb * rng.uniform(0.88, 1.0) * np.array([1.02, 0.95, 0.95])
    if mask is not None:
        cv2.ellipse(mask, ci, axes, angle, 0, 360, 1, -1)
    if canvas is not None:  # rim, then the darker bowl of the concha set towards the head
        cv2.ellipse(canvas, ci, axes, angle, 0, 360, col.tolist(), -1, cv2.LINE_AA)
        inner = (max(1, int(axes[0] * 0.55)), max(1, int(axes[1] * 0.45)))
        bowl = (int(ci[0] - out[0] * axes[1] * 0.25), int(ci[1] - out[1] * axes[1] * 0.25))
        cv2.ellipse(canvas, bowl, inner, angle, 0, 360, (col * 0.82).tolist(), -1, cv2.LINE_AA)


def _face_features(rng, proj: _Projector, canvas, hair: HairColour, r: float) -> None:
    brow_col = (lab_to_rgb(np.array(hair.base_lab)) * 1.1).tolist()
    for side in (-1, 1):
        brow = np.array([unit(side * a, -3 + 2.5 * np.sin(np.radians(a * 4))) for a in range(8, 40, 4)])
        xy, depth = proj(brow)
        if depth.min() > 0.05:
            poly = np.round(xy * 16).astype(np.int32)
            cv2.polylines(canvas, [poly], False, brow_col, max(1, int(r * 0.05)), cv2.LINE_AA, shift=4)
        eye_xy, eye_depth = proj(unit(side * 22, -17)[None])
        if eye_depth[0] > 0.35:
            axes = (max(1, int(r * 0.1)), max(1, int(r * 0.035 * eye_depth[0])))
            cv2.ellipse(canvas, tuple(int(v) for v in eye_xy[0]), axes, 0, 0, 360, (0.12, 0.08, 0.07), -1)


def _coarse_head_points(size: int, proj: _Projector) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame normals q and head-frame points p on a grid a third of the image's resolution
    (head quantities are smooth, so they are computed there and upsampled)."""
    f = 3 if size >= 192 else 1
    hs = -(-size // f)
    g = (np.arange(hs, dtype=np.float32) + 0.5) * (size / hs) - 0.5  # coarse-grid centres in full px
    yy, xx = np.meshgrid(g, g, indexing="ij")
    u = (xx - proj.cx) / (proj.r * proj.ax)
    v = -(yy - proj.cy) / (proj.r * proj.ay)
    rho = np.clip(u * u + v * v, 0, 0.999)
    q = np.stack([u, v, np.sqrt(1 - rho)], -1) / np.sqrt(np.maximum(u * u + v * v + 1 - rho, 1e-6))[..., None]
    return q, q @ proj.m


def _azimuth_elevation(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees: azimuth 0 at the face, ±180 at the nape; elevation 90 at the top of the head."""
    return np.degrees(np.arctan2(p[..., 0], p[..., 1])), np.degrees(np.arcsin(np.clip(p[..., 2], -1, 1)))


def _head_fields(rng, size: int, proj: _Projector, pattern: LossPattern, style: str) -> np.ndarray:
    """Per-pixel smooth head quantities at full size, channels: relative density, scalp margin (deg above
    the hairline), flow x, flow y (unit), diffuse light, specular, skin mottle, redness, flow length
    (foreshortening); indices F_*."""
    q, p = _coarse_head_points(size, proj)
    hs = q.shape[0]
    azim, elev = _azimuth_elevation(p)
    margin = elev - hairline_elevation(azim, rng.normal(0, 3)) - 1.5 * smooth_noise(rng, hs, hs, 5)
    d = (1.0 - pattern.loss(p)) * (1.0 + 0.1 * smooth_noise(rng, hs, hs, rng.uniform(3, 8)))
    g3 = growth_direction(p, 1.2 if style == "long" else 0.0) @ proj.m.T
    light = np.array([rng.normal(0, 0.6), rng.normal(0.3, 0.5), rng.uniform(0.4, 1.2)], np.float32)
    light /= np.linalg.norm(light)
    ambient = rng.uniform(0.3, 0.6)
    ql = q @ light
    diffuse = ambient + (1 - ambient) * np.clip(ql, 0, 1) ** rng.uniform(0.7, 1.6)
    refl_z = 2 * ql * q[..., 2] - light[2]
    sebum = np.clip(1.0 + 0.6 * smooth_noise(rng, hs, hs, 14, 2), 0.2, 2.0)
    spec = rng.uniform(0.05, 0.6) * np.clip(refl_z, 0, 1) ** rng.uniform(8, 40) * sebum
    mottle = 0.05 * smooth_noise(rng, hs, hs, rng.uniform(8, 25), 2)
    redness = np.clip(smooth_noise(rng, hs, hs, 4), 0, None) * rng.uniform(0, 0.06)
    fx, fy = g3[..., 0] * proj.ax, -g3[..., 1] * proj.ay
    flen = np.sqrt(fx * fx + fy * fy)  # foreshortening of hair lying along the scalp
    fx, fy = fx / np.maximum(flen, 1e-6), fy / np.maximum(flen, 1e-6)
    half = np.stack([d, margin, fx, fy, diffuse, spec, mottle, redness, flen], -1)
    half = half.astype(np.float32)
    return cv2.resize(half, (size, size), interpolation=cv2.INTER_LINEAR)


def _scars(rng, size, proj, fields, zones, mm_px, region) -> tuple[np.ndarray, list[dict]]:
    """Scar masks on visible scalp, with their records (type, size, share of scalp)."""
    mask = np.zeros((size, size), np.uint8)
    scalp = zones > 0
    if rng.random() > 0.38 or scalp.sum() < 30:
        return mask, []
    back_visible = region in ("back", "crown", "side")
    kinds = (
        ["fut_strip", "fue_dots", "irregular", "raised"]
        if back_visible
        else ["fue_dots", "irregular", "raised"]
    )
    kind = str(rng.choice(kinds))
    record: dict = {"type": kind}
    if kind == "fut_strip":
        width_mm = rng.uniform(1.0, 10.0)
        half_deg = max(np.degrees(width_mm / 2 / HEAD_RADIUS_MM), 0.6 * np.degrees(mm_px / HEAD_RADIUS_MM))
        # only this scar needs elevation/azimuth per pixel: |azimuth| is continuous across the nape
        azim, elev = _azimuth_elevation(_coarse_head_points(size, proj)[1])
        ea = cv2.resize(np.stack([elev, np.abs(azim)], -1).astype(np.float32), (size, size))
        elev, abs_az = ea[..., 0], ea[..., 1]
        e0 = rng.uniform(-22, 2) + 2.0 * np.sin(np.radians(abs_az) * rng.uniform(2, 4))
        mask[(np.abs(elev - e0) < half_deg) & (abs_az > 180 - rng.uniform(50, 85))] = 1
        record.update(width_mm=round(float(width_mm), 2), stretched=bool(width_mm > 4))
    elif kind == "fue_dots":
        k = int(rng.integers(150, 700))
        az = rng.uniform(70, 180, k) * rng.choice([-1, 1], k)
        el = rng.uniform(-35, 18, k)
        xy, depth = proj(np.stack([unit(a, e) for a, e in zip(az, el, strict=True)]))
        radius_mm = rng.uniform(0.4, 0.5)
        rad = max(1, int(round(radius_mm / mm_px)))
        for (x, y), dz in zip(xy, depth, strict=True):
            if dz > 0.15:
                cv2.circle(mask, (int(round(x)), int(round(y))), rad, 1, -1)
        record.update(count_total=k, diameter_mm=round(float(2 * radius_mm), 2))
    else:
        ys, xs = np.nonzero(scalp)
        i = rng.integers(len(xs))
        start = (float(xs[i]), float(ys[i]))
        if kind == "irregular":
            length_mm, width_mm = rng.uniform(15, 60), rng.uniform(2, 8)
            mask = random_walk_mask(rng, (size, size), start, length_mm / 4 / mm_px, width_mm / mm_px, 5)
        else:
            length_mm, width_mm = rng.uniform(8, 35), rng.uniform(3, 10)
            mask = blob_mask(rng, (size, size), start, length_mm / mm_px, width_mm / mm_px)
        record.update(length_mm=round(float(length_mm), 1), width_mm=round(float(width_mm), 1))
    mask &= scalp
    pixels = int(mask.sum())
    if pixels == 0:
        return mask, []
    record["_pixels"] = pixels
    return mask, [record]
