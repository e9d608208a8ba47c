"""The assessment engine end to end on rendered photos, with the bundled model: every document it
produces validates against the shipped JSON Schema."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from PIL import Image

from benchmarks.walls import wall_photo  # the wall benchmark's photos: built apart from the renderer
from smpvision.analysis.quality import implausible_density
from smpvision.analysis.view import CLOSEUP_MAX_BACKGROUND, detect_view
from smpvision.assess import AssessOptions, assess, load_schema
from smpvision.recommend import Preferences
from smpvision.segmenter import SegmentationResult, Segmenter
from smpvision.synth import render_sample

VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def valid(doc: dict) -> dict:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return doc


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    with Segmenter.from_path(options=None) as seg:
        yield seg


def save(tmp_path: Path, name: str, image: np.ndarray) -> Path:
    path = tmp_path / name
    Image.fromarray(image).save(path)
    return path


def overview(seed: int, **kw) -> np.ndarray:
    return render_sample(seed, size=384, kind="overview", **kw).image


def test_one_rendered_photo_gives_a_valid_ok_document(tmp_path: Path, segmenter: Segmenter) -> None:
    path = save(tmp_path, "top.png", overview(3, region="top"))
    doc = valid(assess(path, segmenter=segmenter).to_dict())
    assert doc["status"] == "ok" and doc["file"] == "top.png" and doc["view"]["kind"] == "overview"
    shares = sum(z["fraction_of_scalp"] for z in doc["zones"].values())
    assert shares == pytest.approx(1.0, abs=1e-3)
    assert doc["calibration"]["mm_per_px"] is None and doc["zones"]["bald"]["area_cm2"] is None
    assert doc["recommendation"]["pigment"]["hex"].startswith("#")


def test_a_given_scale_gives_areas_and_hairs_per_cm2(tmp_path: Path, segmenter: Segmenter) -> None:
    sample = render_sample(5, size=384, kind="overview", region="top")
    path = save(tmp_path, "top.png", sample.image)
    doc = valid(assess(path, AssessOptions(mm_per_px=sample.meta["mm_per_px"]), segmenter).to_dict())
    assert doc["calibration"]["source"] == "given"
    scalp_cm2 = sum(z["area_cm2"] for z in doc["zones"].values())
    true_cm2 = (sample.zones > 0).sum() * (sample.meta["mm_per_px"] / 10) ** 2
    assert scalp_cm2 == pytest.approx(true_cm2, rel=0.35)  # the model's scalp outline, not the label's
    assert doc["density"]["hairs_per_cm2"] is not None


def test_a_broken_file_is_an_error_document_not_an_exception(tmp_path: Path, segmenter: Segmenter) -> None:
    bad = tmp_path / "scan.jpg"
    bad.write_text("not a photo")
    doc = valid(assess(bad, segmenter=segmenter).to_dict())
    assert doc["status"] == "error" and "scan.jpg" in doc["error"] and "\n" not in doc["error"]


def test_several_photos_merge_into_one_consultation(tmp_path: Path, segmenter: Segmenter) -> None:
    paths = [
        save(tmp_path, f"{tag}.png", overview(10 + i, region=tag)) for i, tag in enumerate(("top", "crown"))
    ]
    closeup = render_sample(21, size=384, kind="closeup").image
    paths.append(save(tmp_path, "close.png", closeup))
    paths.append(tmp_path / "missing.jpg")
    options = AssessOptions(tags=["top", "crown", "closeup", None], preferences=Preferences(look="density"))
    result = assess(paths, options, segmenter)
    doc = valid(result.to_dict())
    assert [p["status"] for p in doc["photos"]] == ["ok", "ok", "ok", "error"]
    assert doc["status"] == "ok" and len(doc["views"]) == 3
    assert doc["photos"][2]["view"] == {"kind": "closeup", "source": "given", "tag": "closeup"}
    for photo in doc["photos"]:
        valid(photo)
    assert doc["recommendation"] is not None and doc["skin_from"] in {"top.png", "crown.png", "close.png"}


def test_view_auto_tells_a_closeup_from_a_whole_head(tmp_path: Path, segmenter: Segmenter) -> None:
    head = assess(overview(30, region="back"), segmenter=segmenter).to_dict()
    assert head["view"] == {"kind": "overview", "source": "detected", "tag": None}
    valid(head)
    # a macro close-up in which the shaft estimate finds no shafts: it was taken for a whole head before
    # the background bands (outputs/s38/view_rule.md), since the frame has no room, face or clothes
    close = render_sample((6404, 9), size=384, kind="closeup")
    assert close.meta["view"]["region"] == "macro"
    doc = valid(assess(close.image, segmenter=segmenter).to_dict())
    assert doc["view"] == {"kind": "closeup", "source": "detected", "tag": None}


def _pass_with_background(share: float, size: int = 200) -> SegmentationResult:
    """A whole-head pass that calls the top `share` of the frame background and the rest bald."""
    prob = np.zeros((5, size, size), np.float32)
    rows = round(share * size)
    prob[0, :rows], prob[3, rows:] = 1.0, 1.0
    return SegmentationResult(prob, np.zeros((size, size), np.float32), None, "none", 1.0)


def _shafts(size: int = 200) -> np.ndarray:
    """Six dark bars 8 px wide on a skin-grey field: what the shaft-width estimate reads as a close-up."""
    img = np.full((size, size, 3), 200, np.uint8)
    for i in range(6):
        x = 20 + 30 * i
        cv2.line(img, (x, 20), (x + 15, size - 20), (70, 60, 55), 8, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), 0.8)


@pytest.mark.parametrize(
    ("background", "shafts", "kind"),
    [
        (0.0, False, "closeup"),  # nothing but scalp: a close-up even when no shafts are found
        (0.03, False, "closeup"),
        (0.07, False, "overview"),  # in doubt: the shafts decide
        (0.07, True, "closeup"),
        (0.2, True, "overview"),  # a room, face or clothes around: a whole head whatever the shafts say
    ],
)
def test_detect_view_bands(background: float, shafts: bool, kind: str) -> None:
    image = _shafts() if shafts else np.full((200, 200, 3), 200, np.uint8)
    detected, cues = detect_view(image, _pass_with_background(background))
    assert detected == kind
    assert cues["background_share"] == pytest.approx(background, abs=0.01)
    assert ("shaft_mm_per_px" in cues) == (background <= CLOSEUP_MAX_BACKGROUND)


def test_bad_options_are_refused_with_the_fix(segmenter: Segmenter) -> None:
    with pytest.raises(ValueError, match="view must be"):
        assess(overview(1), AssessOptions(view="sideways"), segmenter)
    with pytest.raises(ValueError, match="tags for"):
        assess([overview(1)], AssessOptions(tags=["top", "crown"]), segmenter)
    with pytest.raises(ValueError, match="mm_per_px"):
        assess(overview(1), AssessOptions(mm_per_px=-1), segmenter)


def test_a_rendered_raised_scar_is_flagged_and_not_planned() -> None:
    """Scar typing and the recommender on a rendered raised scar's own mask (the bundled model's scar
    outline on close-ups is too rough to type it reliably; see the README's measured figures)."""
    from smpvision.analysis.scars import find_scars
    from smpvision.recommend import Findings, recommend

    sample = render_sample(11, size=384)  # a phone-macro close-up of a raised scar
    assert sample.meta["scars"][0]["type"] == "raised"
    scars = find_scars(sample.image, sample.zones, sample.meta["mm_per_px"])
    assert scars[0].type == "raised"
    scar = {"fraction_of_scalp": scars[0].fraction_of_scalp, "area_cm2": scars[0].area_cm2}
    findings = Findings(
        skin=None, hair=None,
        zones={z: {"fraction_of_scalp": 0.0, "area_cm2": None} for z in ("hair", "thinning", "bald")}
        | {"scar": scar},
        density_relative={z: None for z in ("hair", "thinning", "bald", "scar")}, density_per_cm2=None,
        scars=[{"type": "raised", **scar, "redness": scars[0].redness, "months_since_surgery": None}],
        flags=[], treatment_area_cm2=None,
    )  # fmt: skip
    rec = recommend(findings)
    assert rec["scars"][0]["eligible"] is False and rec["refer"] is True
    assert "raised_scar" in rec["flag_codes"] and rec["sessions"] == []


NON_SKIN_WALLS = {"white": (236, 234, 228), "grey": (150, 150, 148), "blue": (150, 170, 200)}
SKIN_COLOURED_WALLS = {"beige": (214, 194, 164), "peach": (228, 190, 160)}  # clinic paint


@pytest.mark.parametrize("colour", sorted(NON_SKIN_WALLS))
def test_a_photo_of_a_wall_is_refused(tmp_path: Path, segmenter: Segmenter, colour: str) -> None:
    for texture in ("smooth", "grain"):
        path = save(tmp_path, f"wall_{colour}.jpg", wall_photo(NON_SKIN_WALLS[colour], texture, len(colour)))
        doc = valid(assess(path, segmenter=segmenter).to_dict())
        assert doc["status"] == "error", f"{colour} wall (texture {texture}) was assessed as a scalp"
        assert "no scalp" in doc["error"] and f"wall_{colour}.jpg" in doc["error"]


@pytest.mark.parametrize("colour", sorted(SKIN_COLOURED_WALLS))
def test_a_skin_coloured_wall_is_scored_with_a_warning(
    tmp_path: Path, segmenter: Segmenter, colour: str
) -> None:
    """A beige wall cannot be told from a fully bald close-up by colour, and the model calls both bald
    scalp: it is scored, but the technician is told that no hair and no head outline was found."""
    for texture in ("smooth", "grain"):
        image = wall_photo(SKIN_COLOURED_WALLS[colour], texture, len(colour))
        doc = valid(assess(save(tmp_path, f"wall_{colour}.jpg", image), segmenter=segmenter).to_dict())
        assert doc["status"] == "ok"
        assert any("no head outline" in w for w in doc["quality"]["warnings"])


def test_rendered_scalps_are_not_taken_for_a_plain_surface(segmenter: Segmenter) -> None:
    """No whole-head photo is ever taken for a plain surface; a close-up rarely is. A close-up whose few
    hairs the density head misses (under 2 counted) and whose frame the zones call all scalp looks like a
    skin-coloured wall to the rule and is warned about, never refused: 2 of 100 rendered held-out
    close-ups with both version 2.1 and version 3 (the same two; 0 of 100 whole heads;
    outputs/s40/plain_rendered.py). Here that is seed 6, a defocused trichoscope field of 9 hairs
    counted as 1, which version 2.1 escaped only by calling a fifth of the field background."""
    warned = []
    for seed in range(12):
        kind = "closeup" if seed % 3 == 0 else "overview"
        doc = assess(render_sample(seed, 256, kind=kind).image, AssessOptions(view=kind), segmenter).to_dict()
        assert doc["status"] == "ok" or "plain surface" not in doc["error"], (seed, kind)
        if any("no head outline" in w for w in doc["quality"]["warnings"]):
            warned.append((seed, kind))
    assert all(kind == "closeup" for _, kind in warned), warned
    assert len(warned) <= 1, warned


@pytest.mark.parametrize(
    ("per_cm2", "broken"),
    [
        (None, False),  # no scale: nothing to judge
        ({"hair": None, "thinning": None, "bald": None, "scar": None}, False),
        ({"hair": 340.0, "thinning": 120.0, "bald": 3.0, "scar": None}, False),  # a dense real scalp
        ({"hair": 570.0, "thinning": None, "bald": None, "scar": None}, False),  # most seen on real frames
        ({"hair": 95_000.0, "thinning": None, "bald": None, "scar": None}, True),
        ({"hair": 200.0, "thinning": None, "bald": 1_500.0, "scar": None}, True),
    ],
)
def test_hair_densities_no_scalp_has_are_called_broken(per_cm2, broken: bool) -> None:
    note = implausible_density(per_cm2)
    assert (note is not None) == broken
    if broken:
        assert "hairs/cm²" in note and "retake" in note


class _BlownUpDensity:
    """The bundled model with its density head spread over the whole field, as it does on a few rendered
    close-ups (smpvision/analysis/quality.py, MAX_HAIRS_PER_CM2)."""

    def __init__(self, seg: Segmenter) -> None:
        self._seg = seg

    def __getattr__(self, name: str):
        return getattr(self._seg, name)

    def segment(self, image, **kw):
        result = self._seg.segment(image, **kw)
        return dataclasses.replace(result, density=np.full_like(result.density, 0.4))


def test_a_broken_hair_count_gives_a_warning_not_hairs_per_cm2(tmp_path: Path, segmenter: Segmenter) -> None:
    sample = render_sample(7, size=256, kind="closeup")
    path = save(tmp_path, "closeup.png", sample.image)
    options = AssessOptions(mm_per_px=sample.meta["mm_per_px"], view="closeup")
    doc = valid(assess(path, options, _BlownUpDensity(segmenter)).to_dict())
    assert doc["status"] == "ok" and not doc["quality"]["ok"]
    assert any("cannot be right" in w for w in doc["quality"]["warnings"])
    assert doc["density"]["hairs_per_cm2"] is None and doc["density"]["relative"]["hair"] is not None
    assert doc["recommendation"]["dots_per_cm2"]  # the plan still stands, on relative density
    honest = valid(assess(path, options, segmenter).to_dict())  # the same photo, the model as it is
    assert honest["density"]["hairs_per_cm2"] is not None
