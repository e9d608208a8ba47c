"""Label consistency of the procedural renderer: the labels must be exactly true of the pixels.

These skip until smpvision.synth.render_sample exists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import pytest

from smpvision.contracts import (
    CLOSEUP_REGIONS,
    OVERVIEW_REGIONS,
    SCAR_TYPES,
    VIEW_KINDS,
    ZONE_CLASSES,
    ZONE_IDS,
)

SIZE = 192
PER_KIND = 6
# Optional explicit count fields a label may carry; when present they must agree with the point list.
_COUNT_KEYS = ("hair_count", "n_hairs", "count")


@pytest.fixture(scope="session")
def samples(render_sample: Callable[..., Any]) -> list[tuple[str, Any]]:
    return [
        (kind, render_sample(seed=(11, k, i), size=SIZE, kind=kind))
        for k, kind in enumerate(VIEW_KINDS)
        for i in range(PER_KIND)
    ]


def _points(label: dict[str, Any]) -> np.ndarray:
    return np.asarray(label["hairs"], dtype=np.float64).reshape(-1, 2)


def _zone_at(zones: np.ndarray, pts: np.ndarray) -> np.ndarray:
    h, w = zones.shape
    x = np.clip(np.rint(pts[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.rint(pts[:, 1]).astype(int), 0, h - 1)
    return zones[y, x]


def test_arrays_and_view(samples: list[tuple[str, Any]]) -> None:
    for kind, s in samples:
        assert s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8
        assert s.zones.shape == (SIZE, SIZE) and s.zones.dtype == np.uint8
        assert int(s.zones.max()) < len(ZONE_CLASSES), "zone ids must be 0..4"
        json.dumps(s.label)  # must be JSON-serialisable as it stands
        view = s.label["view"]
        assert view["kind"] == kind
        assert view["region"] in (OVERVIEW_REGIONS if kind == "overview" else CLOSEUP_REGIONS)
        for scar in s.label.get("scars") or []:
            assert scar["type"] in SCAR_TYPES


def test_relative_density_thresholds_to_the_zones(samples: list[tuple[str, Any]]) -> None:
    """The training target D must give exactly the labelled hair / thinning / bald after every warp and
    turn the photo went through (a D map left unwarped would teach the model a shifted border)."""
    from smpvision.synth.patterns import zones_from_density

    kinds = set()
    for _, s in samples:
        d = s.relative_density
        assert d.shape == s.zones.shape and d.dtype == np.float32 and 0 <= d.min() and d.max() <= 1
        scalp = (s.zones >= 1) & (s.zones <= 3)
        np.testing.assert_array_equal(zones_from_density(d)[scalp], s.zones[scalp])
        kinds.update(np.unique(s.zones[scalp]).tolist())
    assert kinds == {1, 2, 3}, "the samples should exercise all three thresholds"


def test_same_seed_same_sample(render_sample: Callable[..., Any]) -> None:
    a = render_sample(seed=(5, 1), size=128, kind=None, closeup_fraction=0.5)
    b = render_sample(seed=(5, 1), size=128, kind=None, closeup_fraction=0.5)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.zones, b.zones)
    assert a.label == b.label


def test_hair_points_inside_and_counted(samples: list[tuple[str, Any]]) -> None:
    total = 0
    for _, s in samples:
        pts = _points(s.label)
        total += len(pts)
        # Pixel centres are integer coordinates, so the image spans [-0.5, size - 0.5].
        assert (pts >= -0.5).all() and (pts <= SIZE - 0.5).all()
        for key in _COUNT_KEYS:
            if isinstance(s.label.get(key), int):
                assert s.label[key] == len(pts)
        # a visible hair exit lies on hair-bearing scalp: never on background or scar pixels
        z = _zone_at(s.zones, pts)
        assert ((z >= ZONE_IDS["hair"]) & (z <= ZONE_IDS["bald"])).all()
        if (s.zones == ZONE_IDS["hair"]).mean() > 0.01:  # (a bald scalp may have no hair at all)
            assert len(pts) > 0
    assert total > 0


def test_hairs_avoid_scars(samples: list[tuple[str, Any]]) -> None:
    on_scar = total = 0
    for _, s in samples:
        if not (s.zones == ZONE_IDS["scar"]).any():
            continue
        z = _zone_at(s.zones, _points(s.label))
        on_scar += int((z == ZONE_IDS["scar"]).sum())
        total += len(z)
    if total == 0:
        pytest.skip("no rendered sample had a scar")
    assert on_scar / total <= 0.02, f"{on_scar}/{total} hair points on scar pixels"


def test_bald_is_sparse_compared_with_hair(samples: list[tuple[str, Any]]) -> None:
    counts = {"hair": [0, 0], "bald": [0, 0]}  # [points, pixels]
    for _, s in samples:
        z = _zone_at(s.zones, _points(s.label))
        for name in counts:
            counts[name][0] += int((z == ZONE_IDS[name]).sum())
            counts[name][1] += int((s.zones == ZONE_IDS[name]).sum())
    if counts["bald"][1] == 0 or counts["hair"][1] == 0:
        pytest.skip("rendered samples lacked a bald or a hair zone")
    hair_density = counts["hair"][0] / counts["hair"][1]
    bald_density = counts["bald"][0] / counts["bald"][1]
    assert hair_density > 0
    assert bald_density <= 0.25 * hair_density, (bald_density, hair_density)


def test_skin_tone_consistent(samples: list[tuple[str, Any]]) -> None:
    for _, s in samples:
        skin = s.label["skin"]
        assert skin["fitzpatrick"] in range(1, 7)
        L, _a, b = skin["lab"]
        ita = math.degrees(math.atan2(L - 50.0, b))
        assert abs(ita - skin["ita_deg"]) <= 0.5, (ita, skin)


def test_issue_acceptance_mix(render_sample: Callable[..., Any]) -> None:
    """What `smpvision synth --n 48 --size 384 --seed 7` must contain: all zone classes, ≥ 3 scar types,
    ≥ 5 Fitzpatrick types (the CLI renders sample i with seed (7, i))."""
    classes: set[int] = set()
    scar_types: set[str] = set()
    skin_types: set[int] = set()
    for i in range(48):
        s = render_sample(seed=(7, i), size=384)
        classes |= set(np.unique(s.zones).tolist())
        scar_types |= {scar["type"] for scar in s.meta["scars"]}
        skin_types.add(s.meta["skin"]["fitzpatrick"])
        if s.meta["scars"]:
            assert (s.zones == ZONE_IDS["scar"]).any(), "a listed scar must be visible in the mask"
    assert classes == set(range(len(ZONE_CLASSES)))
    assert len(scar_types) >= 3, scar_types
    assert len(skin_types) >= 5, skin_types


def test_camera_parts_switch_off_alone() -> None:
    """Switching a camera part off changes the light and nothing else: labels, geometry and the other
    random draws stay those of the full-camera photo; an unknown part name is refused."""
    from smpvision.synth import render_sample as render
    from smpvision.synth.camera import CAMERA_PARTS, apply_photometric

    full = render(seed=11, size=128, marker=True)
    plain = render(seed=11, size=128, marker=True, camera_off=CAMERA_PARTS)
    np.testing.assert_array_equal(full.zones, plain.zones)
    np.testing.assert_array_equal(full.hairs, plain.hairs)
    assert full.meta["marker"] == plain.meta["marker"]
    assert np.abs(full.image.astype(np.int16) - plain.image).mean() > 1  # the switch reached the camera
    # an even grey frame: without vignetting and uneven light only exposure, white balance, blur and
    # noise act, so the frame stays flat apart from the noise
    grey = np.full((64, 64, 3), 0.5, np.float32)
    flat = apply_photometric(np.random.default_rng(3), grey, closeup=False, off=CAMERA_PARTS)
    lit = apply_photometric(np.random.default_rng(3), grey, closeup=False)
    assert flat[..., 1].std() < lit[..., 1].std()
    with pytest.raises(ValueError, match="unknown camera part"):
        apply_photometric(np.random.default_rng(3), grey, closeup=False, off=("lens_flare",))


def test_follicle_shadow_follows_the_hairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shadow of hair under the skin (what a shaved hair-bearing scalp shows and bald scalp lacks)
    is drawn from the hair exits: none where there are none, darker where there are more, never full;
    and it reaches the rendered photo without touching the labels."""
    from smpvision.synth import overview
    from smpvision.synth import render_sample as render

    rng = np.random.default_rng(0)
    sparse = rng.integers(0, 32, (150, 2))  # left half of the box: ~0.15 hairs/px
    dense = rng.integers(0, 32, (1500, 2)) + [32, 0]  # right half: ~1.5 hairs/px
    outside = np.array([[10, 40], [70, 5]])  # below the box and right of the frame: not counted
    box = (slice(0, 32), slice(0, 64))
    facing = np.ones((32, 64), np.float32)  # skin square to the camera: no foreshortening
    exits = np.concatenate([sparse, dense, outside])
    shadow = overview._follicle_shadow(np.random.default_rng(1), exits, box, 0.7, facing)
    assert shadow.shape == (32, 64)
    left, right = shadow[:, 2:28].mean(), shadow[:, 36:60].mean()
    assert 0 < left < right < 1
    bare = overview._follicle_shadow(np.random.default_rng(1), np.zeros((0, 2), int), box, 0.7, facing)
    assert bare.max() == 0

    shaded = render(seed=(31, 3), size=128, kind="overview")
    monkeypatch.setattr(overview, "_follicle_shadow", lambda rng, e, box, mm, f: np.zeros_like(f))
    plain = render(seed=(31, 3), size=128, kind="overview")
    np.testing.assert_array_equal(shaded.zones, plain.zones)
    np.testing.assert_array_equal(shaded.hairs, plain.hairs)
    scalp = (shaded.zones >= 1) & (shaded.zones <= 3)
    diff = np.abs(shaded.image.astype(np.int16) - plain.image).sum(-1)
    assert diff[scalp].mean() > 1  # the shadow reached the photo


def test_hidden_marks_only_scalp_zones_the_pixels_do_not_show(render_sample: Callable[..., Any]) -> None:
    """Sample.hidden (renderer v6): HIDDEN_ZONE only on hair / thinning / bald, the forehead-edge band only
    on the head; close-ups carry none. Over a few long-hair heads with loss, some bald scalp is covered."""
    from smpvision.synth.scene import HIDDEN_SCALP_EDGE, HIDDEN_ZONE

    covered_bald = 0
    for i in range(40):
        s = render_sample(seed=(12, i), size=SIZE, kind="overview")
        assert s.hidden is not None and s.hidden.shape == s.zones.shape and s.hidden.dtype == np.uint8
        assert np.isin(s.zones[s.hidden == HIDDEN_ZONE], (1, 2, 3)).all()
        assert not (s.hidden == HIDDEN_SCALP_EDGE)[s.zones == 4].any(), "a scar is never at an unseen edge"
        if s.meta["hair"]["style"] == "long":
            covered_bald += int(((s.hidden == HIDDEN_ZONE) & (s.zones == 3)).sum())
    assert covered_bald > 0, "no covered bald scalp in 40 heads: the coverage rule never fires"
    assert render_sample(seed=(12, 0), size=SIZE, kind="closeup").hidden is None


def test_the_calibration_card_is_never_hidden(render_sample: Callable[..., Any]) -> None:
    """The card is drawn over the head after the labels: its pixels are plain background, never an unseen
    zone or the unseen forehead edge (Sample.hidden is cleared under it)."""
    import cv2

    covered_hidden = 0
    for i in range(12):
        s = render_sample(seed=(13, i), size=256, marker=True)
        inside = np.zeros(s.zones.shape, np.uint8)
        cv2.fillPoly(inside, [np.round(np.asarray(s.meta["marker"]["corners"])).astype(np.int32)], 1)
        assert inside.any() and (s.zones[inside > 0] == 0).all()
        assert (s.hidden[inside > 0] == 0).all()
        # the same photo without the card (same draws): was anything hidden where the card now is?
        without_card = render_sample(seed=(13, i), size=256, kind="overview")
        covered_hidden += int((without_card.hidden[inside > 0] != 0).sum())
    assert covered_hidden > 0, "no card fell on hidden pixels in 12 photos: the check above proves nothing"


def test_close_up_root_shadow_lies_behind_the_exit_and_is_blue_grey() -> None:
    from smpvision.synth.closeup import _root_shadow

    exits = np.float32([[40, 32], [40, 96]])  # two hairs leaving the skin towards +x
    angles = np.zeros(2)
    dark_and_white = np.float32([[0.1, 0.08, 0.07], [0.95, 0.95, 0.93]])
    # a seed whose frame shows the shadow (15 % of frames hide it)
    for seed in range(20):
        shadow = _root_shadow(np.random.default_rng(seed), 128, exits, angles, np.full(2, 4.0), 0.01,
                              dark_and_white)  # fmt: skip
        if shadow[..., 3].max() > 0:
            break
    opacity, colour = shadow[..., 3], shadow[0, 0, :3]
    behind, ahead = opacity[32, 25:38].mean(), opacity[32, 45:60].mean()
    assert behind > 0.1 and behind > 5 * ahead  # under the skin, on the side away from the shaft
    assert opacity[96, 25:38].mean() < 0.5 * behind  # a white shaft has no pigment to show through
    assert colour[2] > colour[0]  # blue-grey
    # an empty field stays clear
    assert _root_shadow(np.random.default_rng(0), 32, np.zeros((0, 2), np.float32), np.zeros(0),
                        np.zeros(0), 0.01, np.zeros((0, 3), np.float32))[..., 3].max() == 0  # fmt: skip


def test_dermoscope_stubs_are_clipped_and_other_photos_keep_their_draws() -> None:
    from smpvision.synth.hair import sample_length_mm

    shaved_tricho, shaved_other = [], []
    for seed in range(400):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        style_t, length_t = sample_length_mm(a, closeup=True, trichoscope=True)
        style_o, length_o = sample_length_mm(b, closeup=True)
        # the same draws either way: the style, and the generator's state after the call
        assert style_t == style_o and a.random() == b.random()
        if style_t == "shaved":
            shaved_tricho.append(length_t)
            shaved_other.append(length_o)
        else:
            assert length_t == length_o
    assert len(shaved_tricho) > 150
    assert min(shaved_tricho) >= 0.3 and max(shaved_tricho) <= 1.0  # clipped for trichoscopy
    assert min(shaved_other) < 0.2  # razor stubble elsewhere


def test_dermoscope_veil_spares_pigmented_shafts() -> None:
    import cv2

    from smpvision.synth.closeup import _dermoscope_cast, _draw_shafts

    size = 64
    skin = np.float32([0.7, 0.55, 0.5])
    exits = np.float32([[10, 32], [40, 20]])
    angles = np.float32([0.0, 1.2])
    w_px, length = np.float32([6.0, 6.0]), np.float32([40.0, 30.0])
    # dark brown, as miniaturised dark hair is drawn (~0.3): the old veil lifted these (black it spared)
    mini, cols = np.float32([1.0, 1.0]), np.float32([[0.28, 0.22, 0.2], [0.28, 0.22, 0.2]])
    plain = np.full((size, size, 3), np.round(skin * 255), np.uint8)
    mapped = plain.copy()
    coverage = np.zeros((size, size), np.float32)
    _draw_shafts(plain, exits, angles, w_px, length, mini, cols, skin, "straight")
    _draw_shafts(mapped, exits, angles, w_px, length, mini, cols, skin, "straight", coverage)
    assert np.array_equal(plain, mapped)  # the map is drawn beside the photo, never into it
    core = coverage > 0.5  # pigment on this skin: 1 − 0.233 / 0.583 = 0.6
    assert core.sum() > 200
    assert coverage[~(cv2.dilate(core.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)].max() == 0.0
    img = mapped.astype(np.float32) / 255
    old = _dermoscope_cast(np.random.default_rng(3), img)
    new = _dermoscope_cast(np.random.default_rng(3), img, coverage)
    skin_px = coverage == 0
    assert np.allclose(old[skin_px], new[skin_px])  # the skin gets the same veil as before
    drawn, veiled, spared = (a.mean(-1)[core].mean() for a in (img, old, new))
    # a shaft under the veil is lifted towards the skin; spared by its pigment (~0.6 here), it gets at
    # most the rest of the veil
    assert veiled - drawn > 0.05 and spared - drawn < 0.5 * (veiled - drawn)


def test_capture_bands_hide_the_scalp_as_the_real_frames_do() -> None:
    from smpvision.synth.overlays import burn_in

    size = 256
    seen = {"bottom": 0, "top": 0, "none": 0}
    for seed in range(300):
        img = np.full((size, size, 3), 150, np.uint8)
        zones = np.full((size, size), 1, np.uint8)
        yy, xx = np.mgrid[2:size:8, 2:size:8]
        hairs = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)
        out, zones, kept = burn_in(np.random.default_rng(seed), img, zones, hairs, mm_px=0.01)
        hidden = zones == 0
        bottom, top = hidden[-3:].all(), hidden[3 : size // 30, 3 : size // 20].all()
        assert not (bottom and top)  # one band at most, as in the real frames
        if bottom:  # full width, about 3 % of the height, one flat colour
            rows = np.where(hidden.all(1))[0]
            assert 0.02 * size <= len(rows) <= 0.04 * size and rows[-1] == size - 1
            assert out[rows].std(axis=(0, 1)).max() < 30
        if top:  # dark label boxes along the top left, scalp below and at the right
            assert out[hidden].mean() < 150 and not hidden[size // 10 :].any()
            assert not hidden[:, -size // 4 :].all(0).any()
        seen["bottom" if bottom else "top" if top else "none"] += 1
        # the scalp under a band is background and its hair points are gone, none elsewhere
        hi = np.round(hairs).astype(int)
        assert len(kept) == int((~hidden[hi[:, 1], hi[:, 0]]).sum())
        assert not hidden[np.round(kept[:, 1]).astype(int), np.round(kept[:, 0]).astype(int)].any()
    # within frames that carry overlays: 42 % bottom bars, 23 % top strips
    assert 95 <= seen["bottom"] <= 160 and 45 <= seen["top"] <= 95, seen


def test_buried_dots_are_blue_grey_and_follow_the_follicles() -> None:
    from smpvision.synth.closeup import _buried_dots

    size, mm_px = 256, 0.02
    fu_lam = np.zeros((size, size), np.float32)
    fu_lam[:, : size // 2] = 0.0008  # follicles on the left half only: 2 units/mm², 26 units there
    drawn = 0
    for seed in range(8):
        img = np.full((size, size, 3), 0.8, np.float32)
        _buried_dots(np.random.default_rng(seed), img, fu_lam, mm_px, shaft_px=4.0)
        changed = np.abs(img - 0.8).max(-1) > 0.01
        if not changed.any():
            continue  # a quarter of frames show none
        drawn += 1
        # where no hair grows only a few (2 % of the densest rate: pigment left in empty openings)
        left, right = changed[:, : size // 2].mean(), changed[:, size // 2 + 12 :].mean()
        assert right < 0.25 * left and left < 0.5
        px = img[changed]
        assert (px.mean(-1) < 0.8).all() and (px[:, 2] > px[:, 0]).all()  # darker and blue-grey
    assert drawn >= 4


def test_depth_of_field_blurs_away_from_a_sharp_band() -> None:
    from smpvision.synth.focus import blur_field, depth_of_field

    size, mm_px = 192, 0.02
    rng = np.random.default_rng(3)
    softened = 0
    for seed in range(12):
        field_rng = np.random.default_rng(seed)
        field_rng.random()  # depth_of_field's first draw: whether this frame's focus varies
        sigma = blur_field(field_rng, size, mm_px)
        assert sigma.min() >= 0 and sigma.max() <= 0.09 / mm_px + 1e-4
        # a band in focus somewhere, or the whole field soft when the band lies off the frame
        img = rng.random((size, size, 3)).astype(np.float32)
        out = depth_of_field(np.random.default_rng(seed), img, mm_px)
        assert out.shape == img.shape and out.dtype == np.float32
        if np.array_equal(out, img):
            continue  # 30 % of frames keep one focus
        softened += 1
        # noise loses its variance where the field is blurred, keeps it where it is sharp
        sharp, soft = sigma < 0.3, sigma > 2.0
        if sharp.sum() > 500 and soft.sum() > 500:
            assert out[sharp].std() > 2 * out[soft].std()
    assert 5 <= softened <= 11


def test_depth_of_field_changes_dermoscope_pixels_only(
    render_sample: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from smpvision.synth import focus

    seed = 5001  # a dermoscope frame whose focus varies
    blurred = render_sample(seed, size=160, kind="closeup", region="trichoscope")
    macro = render_sample(seed, size=160, kind="closeup", region="macro")
    monkeypatch.setattr(focus, "SHARE", 0.0)
    sharp = render_sample(seed, size=160, kind="closeup", region="trichoscope")
    assert not np.array_equal(blurred.image, sharp.image)
    assert np.array_equal(blurred.zones, sharp.zones) and np.array_equal(blurred.hairs, sharp.hairs)
    assert np.array_equal(macro.image, render_sample(seed, size=160, kind="closeup", region="macro").image)


def test_in_focus_rooms_change_the_backdrop_only(
    render_sample: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renderer 13 draws half the rooms in focus from their own generator: the head, its labels and
    every other photo stay those of renderer 12 (only pixels the backdrop shows change)."""
    from smpvision.synth import overview

    seeds = range(7000, 7012)
    with_rooms = [render_sample(s, size=128, kind="overview") for s in seeds]
    monkeypatch.setattr(overview, "INTERIOR_SHARE", 0.0)
    without = [render_sample(s, size=128, kind="overview") for s in seeds]
    changed = 0
    for a, b in zip(with_rooms, without, strict=True):
        assert np.array_equal(a.zones, b.zones) and np.array_equal(a.hairs, b.hairs)
        moved = np.abs(a.image.astype(int) - b.image.astype(int)).max(axis=2) > 12
        changed += bool(moved.any())
        # the scalp keeps its pixels, 3 px in from its edge (edge hairs and JPEG blocks mix in the room)
        inner = cv2.erode((a.zones > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
        assert not moved[inner].mean() > 0.01
    assert 3 <= changed <= 10  # about half of 12


def test_interior_is_sharp_and_in_range() -> None:
    from smpvision.synth.scene import backdrop, interior

    rooms = [interior(np.random.default_rng(i), 96) for i in range(20)]
    blurry = [backdrop(np.random.default_rng(i), 96) for i in range(20)]
    assert all(r.shape == (96, 96, 3) and r.dtype == np.float32 for r in rooms)
    assert all(0 <= r.min() and r.max() <= 1 for r in rooms)
    assert np.array_equal(rooms[3], interior(np.random.default_rng(3), 96))

    def sharpest_step(img: np.ndarray) -> float:
        return float(np.abs(np.diff(img.mean(axis=2), axis=1)).max())

    # straight edges (tiles, frames, seams) in most in-focus rooms; the blurry room's steps are soft
    assert np.median([sharpest_step(r) for r in rooms]) > np.median([sharpest_step(b) for b in blurry])
