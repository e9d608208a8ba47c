"""Procedural scalp renderer: photo-like images with exact zone, hair-point and colour labels.

`render_sample(seed, size)` is deterministic for a given seed and size: training streams from it, the
`smpvision synth` command writes it as an annotated-photo folder, tests and examples use it directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contracts import CLOSEUP_REGIONS, OVERVIEW_REGIONS
from .camera import apply_geometry, apply_photometric, jpeg_roundtrip, quantise
from .closeup import render_closeup
from .color import sample_hair, sample_skin
from .focus import depth_of_field, focus_rng
from .hair import HAIR_FORMS, sample_length_mm
from .marker import geometry_points, marker_label, marker_rng, place_card
from .overlays import burn_in, lens_circle
from .overview import render_overview
from .scene import room_rng

# 2: matte haired scalp, stubble shadow; 3: skin b* as in real skin; 4: per-follicle shadow under the skin;
# 6: the same pixels as 4, plus where whole-head zones cannot be seen (Sample.hidden); 7: close-ups show
# the buried hair blue-grey behind each exit (whole-head photos as in 6). ("v5" was a trial close-up
# renderer, never committed; see the model card.) 8: dermoscope frames of shaved scalp show clipped stubs
# (0.3–1 mm cut, 0.2–0.7 mm shafts showing), not razor dots; every other photo is the same as in 7.
# 9: a dermoscope's milky veil no longer lies over pigmented shafts (they stay dark, as in the real
# frames); same draws, so every other photo is the same as in 8.
# 10: capture-software overlays as the real dermoscope frames show them: a plain light-grey bottom bar or
# a top strip of dark label boxes, never both; measurement circles with radius and read-out box. Only
# close-ups that carry overlays (the last draws before JPEG) differ from 9.
# 11: dermoscope frames only: a grainy network of white scale over much of the skin, blue-grey dots of
# hair that does not leave the skin (no hair point), a round blue-grey haze around each exit.
# 12: dermoscope frames only: shallow depth of field, sharp along a band and blurred away from it in 70 %
# (synth.focus, its own generator: every other draw, label and photo is the same as in 11).
# 13: half the whole-head photos show an in-focus room (pale painted walls, tiled or planked floors,
# door frames, ceiling lines, switches; synth.scene.interior, its own generator) instead of the blurry
# one: same heads, labels and every other draw as 12.
RENDERER_VERSION = 13
__all__ = ["Sample", "render_sample", "RENDERER_VERSION"]


@dataclass
class Sample:
    image: np.ndarray  # (size, size, 3) uint8 RGB
    zones: np.ndarray  # (size, size) uint8 class ids 0..4
    hairs: np.ndarray  # (n, 2) float32 xy of visible hair exit points; integer coordinates = pixel centres
    meta: dict  # every label field except the hair list
    # (size, size) float32 relative hair density D (1 = the client's full density) that hair / thinning /
    # bald were thresholded from: a training target (zones lose it), not written to label files
    relative_density: np.ndarray | None = None
    # (size, size) uint8 label visibility, None where every label shows: HIDDEN_ZONE where the pixel is
    # scalp but its hair / thinning / bald zone cannot be seen (long hair lying over bald scalp, shaved
    # white hair), HIDDEN_SCALP_EDGE where not even scalp vs background can (bald scalp running into the
    # forehead); the values are in synth.scene. Training and scoring use it
    # (training.metrics.visible_zone_targets); label files do not.
    hidden: np.ndarray | None = None

    @property
    def label(self) -> dict:
        """The annotated-photo label (DESIGN.md), JSON-serialisable. Built on access: listing tens of
        thousands of points costs milliseconds that training, which uses `hairs` directly, should not pay."""
        return {"hairs": np.round(self.hairs.astype(np.float64), 2).tolist(), **self.meta}


def render_sample(
    seed: int | tuple[int, ...] | list[int],
    size: int = 384,
    kind: str | None = None,
    closeup_fraction: float = 0.3,
    region: str | None = None,
    marker: bool = False,
    camera_off: tuple[str, ...] = (),
) -> Sample:
    """Render one labelled scalp photo. kind: None (mixed by closeup_fraction), "overview" or "closeup".

    marker: hold the calibration card (ArUco marker, grey and white patch) in the photo; overviews only
    (kind None then means "overview"; a close-up has no room for it: ValueError). Everything else is the
    photo rendered with kind="overview" and marker=False, plus the card; meta["marker"] gets its corners
    in final image coordinates, its side in mm and the grey patch's Lab.

    camera_off: camera parts left out (names in synth.camera.CAMERA_PARTS: vignette, uneven_light,
    flash), for measuring what each costs; the photo is otherwise the same as with every part on."""
    if size < 32:
        raise ValueError(f"size {size} px is too small to render a scalp; use at least 32")
    if marker:
        if kind == "closeup":
            raise ValueError("marker=True draws the calibration card into overview photos only; a close-up's "
                             "field (2.5–25 mm) is smaller than the card: use kind='overview'")  # fmt: skip
        kind = "overview"
    rng = np.random.default_rng(seed)
    if kind is None:
        kind = "closeup" if rng.random() < closeup_fraction else "overview"
    if kind not in ("overview", "closeup"):
        raise ValueError(f"kind must be 'overview' or 'closeup', not {kind!r}")
    regions = CLOSEUP_REGIONS if kind == "closeup" else OVERVIEW_REGIONS
    if region is None:
        region = str(rng.choice(regions))
    elif region not in regions:
        raise ValueError(f"region {region!r} is not a {kind} region; choose from {', '.join(regions)}")

    skin = sample_skin(rng)
    hair = sample_hair(rng)
    style, length_mm = sample_length_mm(rng, closeup=kind == "closeup", trichoscope=region == "trichoscope")
    form = str(rng.choice(HAIR_FORMS, p=[0.6, 0.28, 0.12]))
    density = float(rng.uniform(130, 240))  # hairs/cm² of this client's hair-bearing scalp

    if kind == "closeup":
        scene = render_closeup(rng, size, region, skin, hair, style, length_mm, form, density)
    else:  # the room behind the head has its own generator: the head's draws stay those of renderer 12
        room = room_rng(seed)
        scene = render_overview(rng, size, region, skin, hair, style, length_mm, form, density, room=room)
    corners = place_card(marker_rng(seed), scene) if marker else None  # own generator: no draws taken
    if region == "trichoscope":  # own generator too: the frame's other draws stay those of renderer 11
        scene.image = depth_of_field(focus_rng(seed), scene.image, scene.mm_per_px)
    img = apply_photometric(rng, scene.image, closeup=kind == "closeup", off=camera_off)
    if kind == "closeup" and region == "trichoscope" and rng.random() < 0.25:
        img, scene.zones, scene.hairs = lens_circle(rng, img, scene.zones, scene.hairs)
    scene.image = quantise(img)  # warping 8-bit pixels is several times cheaper than float
    perspective = rng.uniform(0, 0.06 if kind == "overview" else 0.03)
    if corners is not None:  # before the real call: the probe replays the same draws on a copy
        corners = geometry_points(rng, size, perspective, corners)
    apply_geometry(rng, scene, perspective=perspective, rot90=True)
    image = scene.image
    if kind == "closeup" and rng.random() < (0.6 if region == "trichoscope" else 0.1):  # capture software
        image, scene.zones, scene.hairs = burn_in(rng, image, scene.zones, scene.hairs, scene.mm_per_px)
    image = jpeg_roundtrip(rng, image)
    zones = np.ascontiguousarray(scene.zones, np.uint8)
    hairs = _stored_points(scene.hairs)
    # occluders and resampling may hide a scar: describe what the final mask shows
    scalp_px = max(int(((zones >= 1) & (zones <= 4)).sum()), 1)
    scar_share = float((zones == 4).sum()) / scalp_px
    scars = [dict(s, fraction_of_scalp=round(scar_share, 5)) for s in scene.scars] if scar_share > 0 else []

    meta = {
        "hair_count": int(len(hairs)),
        "mm_per_px": round(scene.mm_per_px, 6),
        "view": {"kind": kind, "region": region},
        "skin": skin.to_label(),
        "hair": {
            **hair.to_label(),
            "style": style,
            "length_mm": round(length_mm, 2),
            "form": form,
            "density_per_cm2": round(density, 1),
        },
        "scars": scars,
        "pattern": scene.pattern,
        "renderer": {"version": RENDERER_VERSION, "seed": list(np.atleast_1d(seed).tolist()), **scene.extra},
    }
    if corners is not None:
        meta["marker"] = marker_label(corners)
    return Sample(
        image=image,
        zones=zones,
        hairs=hairs,
        meta=meta,
        relative_density=scene.relative_density,
        hidden=scene.hidden,
    )


def _stored_points(hairs: np.ndarray) -> np.ndarray:
    """Points as stored (2 decimals), kept strictly inside the pixel whose zone they were checked
    against: a point rounded onto a pixel border would otherwise belong to the neighbour."""
    pixel = np.round(hairs.astype(np.float64))
    stored = np.clip(np.round(hairs.astype(np.float64), 2), pixel - 0.49, pixel + 0.49)
    return stored.astype(np.float32)
