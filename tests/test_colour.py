"""Skin tone (ITA°, Fitzpatrick) and hair colour from a photo and its zone map."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from smpvision.analysis.calibration import find_marker
from smpvision.analysis.colour import grey_patch_gains, hair_colour, skin_tone
from smpvision.synth import render_sample
from smpvision.synth.color import ita_deg, lab_to_rgb

SKIN_LAB = (62.0, 11.0, 16.0)  # ITA ≈ 37°, type III


def _lin(srgb):
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _enc(lin):
    lin = np.clip(lin, 0, 1)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def _u8(img: np.ndarray) -> np.ndarray:
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def _strands(img: np.ndarray, rgb, n: int, seed: int, length: int = 30, width: int = 3) -> None:
    rng = np.random.default_rng(seed)
    size = img.shape[0]
    for _ in range(n):
        p = rng.uniform(10, size - 10, 2)
        a = rng.uniform(0, np.pi)
        q = p + length * np.array([np.cos(a), np.sin(a)])
        cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), tuple(float(c) for c in rgb), width)


def _flat_skin(size: int = 192, seed: int = 0) -> np.ndarray:
    """Evenly lit skin with fine mottling and sensor noise, dark hair strands and a patch of shine."""
    rng = np.random.default_rng(seed)
    skin = lab_to_rgb(np.float32(SKIN_LAB))
    mottle = 1 + 0.03 * cv2.GaussianBlur(rng.standard_normal((size, size)).astype(np.float32), (0, 0), 4) * 4
    img = skin * mottle[..., None]
    _strands(img, lab_to_rgb(np.float32((18, 2, 3))), 25, seed)
    yy, xx = np.mgrid[0:size, 0:size]
    img = img + 0.35 * np.exp(-((xx - 50) ** 2 + (yy - 60) ** 2) / 200.0)[..., None]  # shine: colourless
    img = img + rng.normal(0, 0.01, img.shape)
    return _u8(img)


def test_flat_skin_is_read_exactly():
    img = _flat_skin()
    zones = np.full(img.shape[:2], 3, np.uint8)
    st = skin_tone(img, zones, view="closeup")
    assert st is not None and st.white_balance == "estimated" and st.source == "bald"
    assert np.abs(np.subtract(st.lab, SKIN_LAB)).max() < 2.5
    assert st.ita_deg == pytest.approx(ita_deg(SKIN_LAB), abs=3.0)
    assert st.hex.startswith("#") and len(st.hex) == 7
    assert 0 < st.confidence < 0.5  # no reference: never high


def test_shaded_head_is_read_under_full_light():
    """A Lambertian ball with ambient light and a highlight: the colour under full light, not the mean."""
    size = 192
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    u, v = (xx - 96) / 70, -(yy - 96) / 70
    inside = u * u + v * v < 1
    q = np.stack([u, v, np.sqrt(np.clip(1 - u * u - v * v, 0, 1))], -1)
    light = np.float32([0.3, 0.4, 0.87]) / np.linalg.norm([0.3, 0.4, 0.87])
    diffuse = 0.4 + 0.6 * np.clip(q @ light, 0, 1)
    spec = 0.3 * np.clip(2 * (q @ light) * q[..., 2] - light[2], 0, 1) ** 20
    img = np.where(
        inside[..., None], diffuse[..., None] * lab_to_rgb(np.float32(SKIN_LAB)) + spec[..., None], 0.3
    )
    zones = np.where(inside, 3, 0).astype(np.uint8)
    st = skin_tone(_u8(img), zones, view="overview")
    assert st is not None
    assert st.lab[0] == pytest.approx(SKIN_LAB[0], abs=2.5)
    assert st.ita_deg == pytest.approx(ita_deg(SKIN_LAB), abs=5.0)
    assert skin_tone(_u8(img), zones).lab == st.lab  # view guessed from the background: overview


def test_no_bare_scalp_is_none():
    img = _flat_skin()
    assert skin_tone(img, np.zeros(img.shape[:2], np.uint8)) is None
    assert hair_colour(img, np.zeros(img.shape[:2], np.uint8)) is None
    with pytest.raises(ValueError, match="differ in size"):
        skin_tone(img, np.zeros((10, 10), np.uint8))


def test_grey_patch_removes_a_colour_cast():
    s = render_sample((43, 1), 256, marker=True)
    m = find_marker(s.image)
    assert m is not None and grey_patch_gains(m) is not None
    ref = skin_tone(s.image, s.zones, m, view="overview")
    cast = _u8(_enc(_lin(s.image / 255.0) * np.float32([1.35, 1.0, 0.6])))  # strong warm cast
    m_cast = find_marker(cast)
    corrected = skin_tone(cast, s.zones, m_cast, view="overview")
    uncorrected = skin_tone(cast, s.zones, None, view="overview")
    assert ref is not None and corrected is not None and corrected.white_balance == "grey_patch"
    assert corrected.ita_deg == pytest.approx(ref.ita_deg, abs=2.0)
    assert np.abs(np.subtract(corrected.lab, ref.lab)).max() < 2.0
    # the cast moves an uncorrected estimate far more than the 2-unit tolerance the correction keeps
    assert uncorrected is None or np.abs(np.subtract(uncorrected.lab, ref.lab)).max() > 4
    assert corrected.confidence > 0.3


def test_rendered_photos_with_the_card():
    """Not the issue's target (benchmarks/skin_tone.py measures that): a guard against regressions.
    Measured on these 40 photos (renderer v4): 11 estimates (overviews need bald scalp on ≥ 2 % of the
    frame), median |ITA error| 8.9° (12° on renderer v3), Fitzpatrick ±1 for 91 %."""
    errors, within = [], []
    for i in range(40):
        s = render_sample((32, i), 192, marker=True)
        st = skin_tone(s.image, s.zones, find_marker(s.image), view="overview")
        if st is None:
            continue
        errors.append(abs((st.ita_deg - s.meta["skin"]["ita_deg"] + 180) % 360 - 180))
        within.append(abs(st.fitzpatrick - s.meta["skin"]["fitzpatrick"]) <= 1)
    assert len(errors) >= 8
    assert np.median(errors) < 20
    assert np.mean(within) >= 0.7


@pytest.mark.parametrize(
    ("strand_lab", "names"),
    [((14, 1, 1.5), {"black", "dark_brown"}), ((62, 4.5, 24), {"blond", "light_brown"})],
)
def test_resolved_strands_name(strand_lab, names):
    skin = lab_to_rgb(np.float32((40, 12, 18) if strand_lab[0] > 50 else SKIN_LAB))
    img = np.ones((192, 192, 3), np.float32) * skin
    _strands(img, lab_to_rgb(np.float32(strand_lab)), 60, 3)
    ht = hair_colour(_u8(img), np.ones((192, 192), np.uint8), view="closeup")
    assert ht is not None and ht.name in names and ht.grey_fraction == 0.0
    assert ht.lab[0] == pytest.approx(strand_lab[0], abs=8)


def test_white_and_dark_strands_make_grey():
    img = np.ones((192, 192, 3), np.float32) * lab_to_rgb(np.float32((45, 12, 18)))
    _strands(img, lab_to_rgb(np.float32((16, 1, 2))), 30, 4)
    _strands(img, lab_to_rgb(np.float32((84, -0.5, 4))), 30, 5)
    ht = hair_colour(_u8(img), np.ones((192, 192), np.uint8), view="closeup")
    assert ht is not None and ht.name in {"salt_and_pepper", "grey"}
    assert 0.25 < ht.grey_fraction < 0.75


_FAMILY = {
    "black": 0,
    "dark_brown": 0,
    "light_brown": 1,
    "blond": 1,
    "salt_and_pepper": 2,
    "grey": 2,
    "white": 2,
}


def test_rendered_hair_families():
    """Overviews of unshaved black, blond and grey/white hair: the estimated name is in the right
    family. Measured on this scan (renderer v4): 23 of 24 with the old top brightness band (the miss: blond
    read as brown), 22 of 24 with the middle band now used (a grey head read as dark brown as well)."""
    hits, n = 0, 0
    for i in range(80):
        s = render_sample((31, i), 192, kind="overview")
        h = s.meta["hair"]
        if h["name"] not in ("black", "blond", "grey", "white") or h["style"] == "shaved":
            continue
        est = hair_colour(s.image, s.zones, view="overview")
        if est is None:
            continue
        n += 1
        hits += _FAMILY.get(est.name, -1) == _FAMILY[h["name"]]
    assert n >= 15
    assert hits / n >= 0.8
