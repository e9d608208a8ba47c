"""Close-ups: a 2.5–25 mm field of scalp, as a dermoscope (trichoscope) or a phone macro lens sees it.

Hairs grow in follicular units of 1–4; each shaft is drawn as a cylinder (dark core, highlight) emerging
at its true width (50–100 µm, finer when miniaturised), the buried part of the hair showing blue-grey
through the skin behind its exit, and in about a third of frames a whitish perifollicular halo (renderer
v7; before it every exit had the halo and none the blue-grey root).
"""

from __future__ import annotations

import cv2
import numpy as np

from .color import HairColour, SkinTone, lab_to_rgb
from .noise import smooth_noise
from .patterns import BALD_MAX, zones_from_density
from .scars import blob_mask, random_walk_mask, relief_shading, scar_rgb
from .scene import RenderedScene, sample_exits

FIELD_MM = {"trichoscope": (2.5, 6.5), "macro": (8.0, 25.0)}
SITUATIONS = ("hair", "thinning", "transition", "bald", "scar")
_SITUATION_P = (0.24, 0.2, 0.2, 0.1, 0.26)
_FU_SIZES = np.array([[0.2, 0.45, 0.28, 0.07], [0.62, 0.3, 0.07, 0.01]])  # healthy / miniaturised


def _density_field(rng, size: int, mm_px: float, situation: str) -> np.ndarray:
    noise = smooth_noise(rng, size, size, rng.uniform(2, 5))
    if situation == "hair" or situation == "scar":
        return rng.uniform(0.75, 1.1) + 0.08 * noise
    if situation == "thinning":
        return np.clip(rng.uniform(0.2, 0.5) + 0.08 * noise, 0.13, 0.54)
    if situation == "bald":
        return np.clip(rng.uniform(0.0, 0.08) + 0.02 * noise, 0, 0.11)
    ang = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    s = ((xx - size / 2) * np.cos(ang) + (yy - size / 2) * np.sin(ang)) * mm_px
    width = rng.uniform(0.4, 3.0) * max(1.0, size * mm_px / 8)
    s0 = rng.uniform(-0.25, 0.25) * size * mm_px
    lo, hi = rng.uniform(0.0, 0.1), rng.uniform(0.75, 1.05)
    return lo + (hi - lo) / (1 + np.exp(-(s - s0) / width)) + 0.05 * noise


def _scar_mask(rng, size: int, mm_px: float) -> tuple[np.ndarray, dict]:
    kind = str(rng.choice(["fut_strip", "fue_dots", "irregular", "raised"]))
    field = size * mm_px
    mask = np.zeros((size, size), np.uint8)
    rec: dict = {"type": kind}
    if kind == "fut_strip":
        width_mm = min(rng.uniform(1.0, 10.0), 0.6 * field)
        ang = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        t = (xx - size / 2) * np.cos(ang) + (yy - size / 2) * np.sin(ang)
        n = -(xx - size / 2) * np.sin(ang) + (yy - size / 2) * np.cos(ang)
        bend = rng.normal(0, 0.08) * t * t / size + rng.uniform(-0.2, 0.2) * size
        edge = 0.04 * width_mm / mm_px * smooth_noise(rng, size, size, 6)
        mask[np.abs(n - bend) + edge < width_mm / mm_px / 2] = 1
        rec.update(width_mm=round(float(width_mm), 2), stretched=bool(width_mm > 4))
    elif kind == "fue_dots":
        radius_mm = rng.uniform(0.4, 0.5)
        count = int(np.clip(field * field * rng.uniform(0.02, 0.08), 1, 60))
        for _ in range(count):
            c = rng.uniform(0, size, 2).astype(int)
            axes = (
                int(radius_mm / mm_px * rng.uniform(0.85, 1.15)),
                int(radius_mm / mm_px * rng.uniform(0.75, 1.0)),
            )
            cv2.ellipse(
                mask,
                (int(c[0]), int(c[1])),
                (max(1, axes[0]), max(1, axes[1])),
                rng.uniform(0, 180),
                0,
                360,
                1,
                -1,
            )
        rec.update(count_in_view=count, diameter_mm=round(float(2 * radius_mm), 2))
    elif kind == "irregular":
        width_mm = rng.uniform(0.5, 4.0)
        mask = random_walk_mask(rng, (size, size), tuple(rng.uniform(0.2, 0.8, 2) * size), size * 0.3,
                                min(width_mm / mm_px, size * 0.4), 4)  # fmt: skip
        rec.update(width_mm=round(float(width_mm), 2))
    else:
        length_mm, width_mm = rng.uniform(2.0, 12.0), rng.uniform(1.0, 5.0)
        scale = min(1.0, 0.8 * field / length_mm)
        mask = blob_mask(rng, (size, size), tuple(rng.uniform(0.3, 0.7, 2) * size), length_mm * scale / mm_px,
                         width_mm * scale / mm_px)  # fmt: skip
        rec.update(length_mm=round(float(length_mm), 1), width_mm=round(float(width_mm), 1))
    return mask, rec


def _skin_texture(rng, size: int, mm_px: float, skin_rgb: np.ndarray) -> np.ndarray:
    """Bare skin: mottling, redness, ~0.15 mm epidermal cells and a network of whitish furrows.
    Built as single-channel modulation maps and applied to the colour once."""
    field = size * mm_px
    lum = 1 + 0.05 * smooth_noise(rng, size, size, rng.uniform(2, 5))
    red = np.clip(smooth_noise(rng, size, size, 3, 2), 0, None) * rng.uniform(0.0, 0.08)
    cells = max(3.0, field / 0.15)
    lum *= 1 + 0.035 * smooth_noise(rng, size, size, min(cells, size / 3), 2)
    creases = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(8, 30))):
        p0 = rng.uniform(-0.2, 1.2, 2) * size
        d = rng.normal(0, 1, 2)
        p1 = p0 + d / np.linalg.norm(d) * rng.uniform(0.2, 0.9) * size
        cv2.line(creases, tuple(int(v) for v in p0), tuple(int(v) for v in p1), float(rng.choice([-1, 1])),
                 max(1, int(size / 250)), cv2.LINE_AA)  # fmt: skip
    creases = cv2.GaussianBlur(creases, (0, 0), max(0.8, size / 400))
    lum *= 1 + rng.uniform(0.03, 0.1) * creases
    chroma = lum * (1 - red)
    return np.stack([lum, chroma, chroma], -1) * skin_rgb.astype(np.float32)


def _flakes(rng, img: np.ndarray, mm_px: float) -> None:
    """White scales (dandruff, dry skin) lying on the skin: small, ragged, semi-transparent."""
    size = img.shape[0]
    layer = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(2, 25))):
        c = rng.uniform(0, size, 2)
        r = rng.uniform(0.02, 0.18) / mm_px
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = r * rng.uniform(0.4, 1.0, 9)
        pts = c + np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
        cv2.fillPoly(layer, [np.round(pts).astype(np.int32)], float(rng.uniform(0.2, 0.6)), cv2.LINE_AA)
    layer = cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.01 / mm_px))[..., None]
    img[:] = img * (1 - layer) + np.float32([0.93, 0.93, 0.95]) * layer


def _scale_network(rng, img: np.ndarray, mm_px: float) -> None:
    """Dry scale under a dermoscope: ragged white patches that follow the skin's furrows over much of the
    frame, grainy rather than solid. Most of the real dermoscope frames show it (seen by eye on the realism
    sheet, benchmarks/realism_sheet.py); models trained without it put hair density on its flecks and on
    the dark skin between them (renderer 11; before it only a few separate flakes, _flakes)."""
    size = img.shape[0]
    field = size * mm_px
    patches = smooth_noise(rng, size, size, field / rng.uniform(0.25, 0.6), 3)
    grain = smooth_noise(rng, size, size, field / rng.uniform(0.03, 0.06), 2)
    cover = rng.uniform(0.25, 0.75)  # share of the frame under scale
    level = float(np.quantile(patches, 1 - cover))
    alpha = np.clip((patches - level) / 0.8, 0, 1) * np.clip(0.7 + 0.3 * grain, 0, 1)
    alpha = cv2.GaussianBlur(alpha * rng.uniform(0.35, 0.8), (0, 0), max(0.7, 0.004 / mm_px))[..., None]
    img[:] = img * (1 - alpha) + np.float32([0.92, 0.93, 0.97]) * alpha


def render_closeup(
    rng: np.random.Generator, size: int, region: str, skin: SkinTone, hair: HairColour,
    style: str, length_mm: float, form: str, density_cm2: float,
) -> RenderedScene:  # fmt: skip
    field = rng.uniform(*FIELD_MM[region])
    mm_px = field / size
    situation = SITUATIONS[int(rng.choice(len(SITUATIONS), p=_SITUATION_P))]
    d = _density_field(rng, size, mm_px, situation).astype(np.float32)
    zones = zones_from_density(d)
    scars: list[dict] = []
    scar = np.zeros((size, size), np.uint8)
    if situation == "scar":
        scar, rec = _scar_mask(rng, size, mm_px)
        if scar.any():
            rec["fraction_of_scalp"] = round(float(scar.mean()), 5)
            scars.append(rec)
    zones[scar > 0] = 4
    # hairs cannot exit right at a scar's edge either
    keep_out = cv2.dilate(scar, np.ones((3, 3), np.uint8), iterations=max(1, int(0.05 / mm_px)))

    skin_rgb = lab_to_rgb(np.array(skin.lab))
    img = _skin_texture(rng, size, mm_px, skin_rgb)
    light = rng.normal(0, 1, 2)
    light /= np.linalg.norm(light)
    if scars:
        kind = scars[0]["type"]
        soft = cv2.GaussianBlur(scar.astype(np.float32), (0, 0), max(1.0, 0.03 / mm_px))[..., None]
        smooth = cv2.GaussianBlur(img, (0, 0), 3.0)  # scar tissue has no pores or furrows
        img = img * (1 - soft) + smooth * soft
        img = img * (1 - soft * 0.85) + scar_rgb(rng, skin.lab, kind) * soft * 0.85
        if kind == "raised":
            img *= relief_shading(scar, tuple(light), max(2.0, 0.3 / mm_px), 0.6 / max(1.0, 0.05 / mm_px))[
                ..., None
            ]
    if rng.random() < 0.45:
        _flakes(rng, img, mm_px)
    if region == "trichoscope" and rng.random() < 0.6:  # drawn last: other close-ups keep their draws
        _scale_network(rng, img, mm_px)

    # follicular units → hair exits
    d_eff = np.where(d < BALD_MAX, d * 0.4, d)
    fu_lam = np.clip(d_eff, 0, 1.3) * density_cm2 / 2.1 * (mm_px / 10) ** 2
    fu_lam[keep_out > 0] = 0
    margin = int(0.8 / mm_px)  # units just outside the frame still send hairs into it
    big = np.pad(fu_lam, margin, mode="edge")
    fus = sample_exits(rng, big) - margin
    theta0 = rng.uniform(0, 2 * np.pi)
    theta_field = 0.35 * smooth_noise(rng, size, size, 2)
    fi = np.clip(np.round(fus).astype(int), 0, size - 1)
    t = np.clip((d[fi[:, 1], fi[:, 0]] - BALD_MAX) / (0.8 - BALD_MAX), 0, 1)
    probs = _FU_SIZES[1] * (1 - t[:, None]) + _FU_SIZES[0] * t[:, None]
    counts = (rng.random(len(fus))[:, None] > np.cumsum(probs, 1)).sum(1) + 1

    exits, angles, widths, lengths, mini = [], [], [], [], []
    for (x, y), k, ti, (xi, yi) in zip(fus, counts, t, fi, strict=True):
        ang = theta0 + theta_field[yi, xi] + rng.normal(0, 0.12)
        perp = np.array([-np.sin(ang), np.cos(ang)])
        spacing = rng.uniform(0.05, 0.1) / mm_px
        for j in range(k):
            off = (j - (k - 1) / 2) * spacing + rng.normal(0, 0.015 / mm_px)
            exits.append((x + perp[0] * off, y + perp[1] * off))
            angles.append(ang + (j - (k - 1) / 2) * 0.07 + rng.normal(0, 0.05))
            m = float(np.clip(0.35 + 0.65 * ti + rng.normal(0, 0.08), 0.25, 1.0))
            mini.append(m)
            widths.append(rng.normal(0.075, 0.012) * m)
            lengths.append(length_mm * rng.uniform(0.6, 1.3) * (0.4 + 0.6 * m) * rng.uniform(0.5, 1.0))
    exits_a = np.array(exits, np.float32).reshape(-1, 2)
    n = len(exits_a)
    cols = hair.strand_rgb(rng, n)

    if region == "trichoscope":  # drawn after every other draw of v10: other close-ups keep theirs
        _buried_dots(rng, img, fu_lam, mm_px, float(np.median(widths)) / mm_px if n else 0.075 / mm_px)
    # perifollicular halo (sebum/scale) under the shaft base: exits splatted, then one blur
    canvas = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    w_px = np.maximum(np.asarray(widths, np.float32) / mm_px, 1.0)
    sigma = max(1.0, 0.04 / mm_px, 1.4 * float(np.median(w_px)) if n else 1.0)
    halo = np.zeros((size, size), np.float32)
    if n:
        ei = np.clip(np.round(exits_a).astype(np.int64), 0, size - 1)
        strength = rng.uniform(0.5, 1.0, n) * 2 * np.pi * sigma * sigma  # peak ≈ 1 for a lone exit
        halo = (
            np.bincount(ei[:, 1] * size + ei[:, 0], strength, size * size)
            .reshape(size, size)
            .astype(np.float32)
        )
        # a pale halo (sebum, scaling) in about a third of frames only: what marks a real exit is the
        # blue-grey root behind it (_root_shadow); with a halo on every exit, models trained on it put
        # their density on bright flecks of real frames
        halo = np.minimum(cv2.GaussianBlur(halo, (0, 0), sigma), 1.0) * rng.uniform(0.15, 0.6)
        halo *= float(rng.random() < 0.35)
    halo_col = np.float32([0.85, 0.88, 0.95]) * 255
    canvas = (canvas * (1 - halo[..., None]) + halo_col * halo[..., None]).astype(np.uint8)
    # a dermoscope's veil must know where the shafts are (below); other photos need no coverage map
    shafts = np.zeros((size, size), np.float32) if region == "trichoscope" else None
    _draw_shafts(canvas, exits_a, np.asarray(angles), w_px, np.asarray(lengths) / mm_px,
                 np.asarray(mini, np.float32), cols, skin_rgb, form, shafts)  # fmt: skip
    out = canvas.astype(np.float32) / 255.0
    # a light veil over the hair base: the shaft emerges from under translucent skin
    out = out * (1 - 0.5 * halo[..., None]) + np.float32([0.85, 0.88, 0.95]) * 0.5 * halo[..., None]
    root = _root_shadow(rng, size, exits_a, np.asarray(angles), w_px, mm_px, cols, region == "trichoscope")
    out = out * (1 - root[..., 3:]) + root[..., :3] * root[..., 3:]

    inside = (
        (exits_a[:, 0] >= -0.5)
        & (exits_a[:, 0] < size - 0.5)
        & (exits_a[:, 1] >= -0.5)
        & (exits_a[:, 1] < size - 0.5)
    )
    hairs = exits_a[inside]
    if len(hairs):
        hz = zones[np.round(hairs[:, 1]).astype(int), np.round(hairs[:, 0]).astype(int)]
        hairs = hairs[(hz >= 1) & (hz <= 3)]
    if region == "trichoscope":
        out = _dermoscope_cast(rng, out, shafts)
    _glints(rng, out, mm_px)
    return RenderedScene(
        image=out, zones=zones, hairs=hairs, mm_per_px=float(mm_px), region=region, pattern=situation,
        scars=scars, extra={"field_mm": round(float(field), 2)}, relative_density=np.clip(d, 0, 1),
    )  # fmt: skip


def _root_shadow(
    rng: np.random.Generator, size: int, exits: np.ndarray, angles: np.ndarray, w_px: np.ndarray,
    mm_px: float, cols: np.ndarray, haze: bool = False,
) -> np.ndarray:  # fmt: skip
    """The hair under the skin, seen through it: from each exit, on the side away from the shaft (the
    follicle runs on beneath the surface at the angle the hair leaves it), a blurred blue-grey streak
    0.2–0.7 mm long and 1.5–3 shafts wide that fades with depth. In real dermoscope frames this, not a
    pale halo, is what marks where a hair leaves the skin (the Tyndall effect turns buried pigment blue).
    Unpigmented (white) shafts leave almost none. Returns (H, W, 4): colour and opacity.

    haze: also a round blue-grey haze 2-4 shafts across around each exit, as the real dermoscope frames
    show it (renderer 11; the streak alone is narrower than what they show)."""
    out = np.zeros((size, size, 4), np.float32)
    n = len(exits)
    if n == 0 or rng.random() < 0.15:  # some frames (oily, scaly or heavily gelled skin) hide it
        return out
    strength = rng.uniform(0.35, 0.8)
    colour = np.float32([0.35, 0.42, 0.55]) * rng.uniform(0.8, 1.15)
    opacity = np.zeros((size, size), np.float32)
    back = -np.stack([np.cos(angles), np.sin(angles)], 1)
    length = rng.uniform(0.2, 0.7, n) / mm_px
    pigment = 1.0 - np.clip((cols.mean(1) - 0.45) / 0.4, 0.0, 0.9)  # pale shafts: faint shadow
    width = np.maximum(1, np.round(w_px * rng.uniform(1.5, 3.0, n))).astype(int)
    for frac, fade in ((0.0, 1.0), (0.35, 0.7), (0.7, 0.4)):  # deeper = fainter, drawn in three pieces
        a = exits + back * (length * frac)[:, None]
        b = exits + back * (length * (frac + 0.35))[:, None]
        for i in range(n):
            cv2.line(opacity, (int(a[i, 0] * 16), int(a[i, 1] * 16)), (int(b[i, 0] * 16), int(b[i, 1] * 16)),
                     float(fade * pigment[i]), int(width[i]), cv2.LINE_AA, shift=4)  # fmt: skip
    if haze:
        radius = w_px * rng.uniform(1.0, 2.0, n)
        for i in range(n):
            cv2.circle(opacity, (int(exits[i, 0] * 16), int(exits[i, 1] * 16)), int(radius[i] * 16),
                       float(0.7 * pigment[i]), -1, cv2.LINE_AA, shift=4)  # fmt: skip
    opacity = cv2.GaussianBlur(opacity, (0, 0), max(1.0, 0.6 * float(np.median(w_px))))
    out[..., :3] = colour
    out[..., 3] = np.clip(opacity, 0, 1) * strength
    return out


def _buried_dots(rng, img: np.ndarray, fu_lam: np.ndarray, mm_px: float, shaft_px: float) -> None:
    """Blue-grey dots of hair that does not leave the skin: shafts cut below the surface, hairs growing
    in, pigment in an empty opening. They look like a root shadow with no shaft, and the real frames have
    them (a model trained without them put hairs on them: outputs of session 33); they are not hairs
    that can be counted, so they get no hair point."""
    size = img.shape[0]
    if rng.random() < 0.25:
        return
    dots = sample_exits(rng, fu_lam * rng.uniform(0.1, 0.8) + 0.02 * fu_lam.max())
    if not len(dots):
        return
    opacity = np.zeros((size, size), np.float32)
    radius = shaft_px * rng.uniform(0.6, 2.0, len(dots))
    aspect = rng.uniform(1.0, 2.5, len(dots))
    angle = rng.uniform(0, 180, len(dots))
    for (x, y), r, a, t in zip(dots, radius, aspect, angle, strict=True):
        axes = (max(1, int(r * a * 16)), max(1, int(r * 16)))
        cv2.ellipse(opacity, (int(x * 16), int(y * 16)), axes, float(t), 0, 360, float(rng.uniform(0.3, 1.0)),
                    -1, cv2.LINE_AA, shift=4)  # fmt: skip
    opacity = cv2.GaussianBlur(opacity, (0, 0), max(1.0, 0.8 * shaft_px))[..., None] * rng.uniform(0.3, 0.7)
    colour = np.float32([0.35, 0.42, 0.55]) * rng.uniform(0.8, 1.15)
    img[:] = img * (1 - opacity) + colour * opacity


def _draw_shafts(
    canvas, exits, angles, w_px, length_px, mini, cols, skin_rgb, form: str,
    coverage: np.ndarray | None = None,
) -> None:  # fmt: skip
    """Shafts as cylinders (core + highlight). Hairs of one thickness and shade are drawn in a single
    polylines call: per-hair calls dominate the cost of a dense macro field. coverage (float32 H×W, or
    None): where given, each shaft's pigment (1 = black, 0 = as pale as the skin) is drawn into it."""
    n = len(exits)
    if n == 0:
        return
    m = mini[:, None]
    col = cols * (m + (1 - m) * 0.3) + skin_rgb * (1 - m) * 0.7  # miniaturised hairs are paler
    d2 = np.stack([np.cos(angles), np.sin(angles)], 1)
    perp = np.stack([-d2[:, 1], d2[:, 0]], 1)
    s = np.linspace(0, 1, 8)[None, :, None]
    bend_amp = {"straight": 0.0, "wavy": 0.04, "coiled": 0.07}[form]
    waves = 1 if form == "wavy" else 3
    bends = (length_px > 6 * w_px) * length_px * bend_amp
    pts = exits[:, None, :] + s * (length_px[:, None, None] * d2[:, None, :])
    pts += np.sin(s * np.pi * waves) * bends[:, None, None] * perp[:, None, :]
    thick = np.maximum(1, np.round(w_px)).astype(int)
    shade = np.round(col.mean(1) * 8).astype(int)
    for key in sorted(set(zip(thick.tolist(), shade.tolist(), strict=True))):
        members = np.flatnonzero((thick == key[0]) & (shade == key[1]))
        polys = list(np.round(pts[members] * 16).astype(np.int32))
        c = col[members].mean(0)
        cv2.polylines(canvas, polys, False, (c * 255).tolist(), key[0], cv2.LINE_AA, shift=4)
        if coverage is not None:
            dark = float(np.clip(1.0 - c.mean() / max(float(skin_rgb.mean()), 1e-3), 0.0, 1.0))
            cv2.polylines(coverage, polys, False, dark, key[0], cv2.LINE_AA, shift=4)
        if key[0] >= 3:  # cylinder highlight along the shaft
            off = pts[members] + perp[members, None, :] * (w_px[members, None, None] * 0.2)
            # a faint line (renderer 9): at c × 1.6 + 0.12 a dark shaft read as a hollow tube, two dark
            # edges round a pale core, which no real dermoscope frame shows
            hi = np.clip(c + 0.35 * (c * 0.6 + 0.12), 0, 1) * 255
            cv2.polylines(canvas, list(np.round(off * 16).astype(np.int32)), False, hi.tolist(),
                          max(1, key[0] // 4), cv2.LINE_AA, shift=4)  # fmt: skip


def _dermoscope_cast(rng, img: np.ndarray, shafts: np.ndarray | None = None) -> np.ndarray:
    """Polarised LED light through immersion gel: skin reads pale, cold and blue-white, with a
    milky veil that lifts dark skin too; hair stays dark.

    shafts: the shafts' pigment coverage (_draw_shafts). The veil is light scattered back by the gel and
    the top of the skin; a pigmented shaft absorbs what falls on it, so it stays dark: in the real
    trichoscopy frames the darkest 1 %
    of a frame (the shafts) reads 0.19–0.29 of its median luminance (p10–p90), while with the veil over
    the shafts (lifting a black shaft from ~75 to ~110 of 255) rendered frames of dark hair read 0.44
    (renderer 8). Without a map only pixels already near black are spared, as before."""
    veil = rng.uniform(0.2, 0.55)
    tint = np.float32([0.78, 0.8, 0.93]) * rng.uniform(0.9, 1.08)
    lum = img.mean(-1, keepdims=True)
    keep_dark = np.clip((lum - 0.12) / 0.25, 0, 1)  # near-black pixels keep their contrast
    if shafts is not None:
        keep_dark = keep_dark * (1.0 - np.clip(shafts, 0.0, 1.0)[..., None])
    return img * (1 - veil * keep_dark) + tint * veil * keep_dark


def _glints(rng, img: np.ndarray, mm_px: float) -> None:
    """Specular glints from gel or sebum under the dermoscope's contact plate."""
    if rng.random() < 0.4:
        return
    size = img.shape[0]
    layer = np.zeros((size, size), np.float32)
    for _ in range(int(rng.integers(5, 60))):
        c = tuple(int(v) for v in rng.uniform(0, size, 2))
        cv2.circle(layer, c, max(1, int(rng.uniform(0.005, 0.03) / mm_px)), float(rng.uniform(0.3, 1.0)), -1)
    layer = cv2.GaussianBlur(layer, (0, 0), 0.8)[..., None]
    img[:] = np.clip(img + layer * 0.6, 0, 1)
