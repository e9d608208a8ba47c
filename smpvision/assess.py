"""`assess(images, options) -> Assessment`: photos of one client in, the assessment JSON out.

Each photo is read, scaled (user mm/px, marker sheet, or the close-up shaft estimate), segmented,
measured and quality-checked on its own; several photos of one client then merge into one consultation:
per-view tables, skin tone from the best bare-scalp view, hair colour from the best hair view, one plan.
The CLI and the app are thin wrappers over this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .analysis.calibration import Marker, find_marker
from .analysis.colour import hair_colour, skin_tone
from .analysis.flags import scalp_flags
from .analysis.quality import BLUR_MIN, CLIPPED_MAX, check_quality, implausible_density
from .analysis.scars import find_scars
from .analysis.view import detect_view_of
from .analysis.zones import SCALP_ZONES, judge_closeup, zone_stats
from .consultation import merge
from .contracts import VIEW_KINDS
from .io import ImageError, LoadedImage, load_image
from .recommend import Findings, Preferences, Rules, load_rules, recommend
from .segmenter import SegmentationResult, Segmenter

SCHEMA = "smpvision.assessment/1"
VIEW_TAGS: tuple[str, ...] = ("front", "top", "crown", "back", "side", "closeup")
ImageSource = str | Path | bytes | np.ndarray


@dataclass
class AssessOptions:
    view: str = "auto"  # "auto" | "overview" | "closeup"; a tag of "closeup" implies closeup
    mm_per_px: float | None = None  # of the photo as taken (full resolution), when the user knows it
    tags: Sequence[str | None] | None = None  # one per photo: front, top, crown, back, side, closeup
    preferences: Preferences = field(default_factory=Preferences)
    # Photos are decoded (JPEG draft) and analysed at most this large. The model itself runs overviews at
    # 256 px and close-ups at most 1024 px, so more pixels only slow the colour and scar analysis down.
    max_side: int = 1024
    use_marker: bool = True  # look for the printed marker sheet (scale + grey patch)


@dataclass
class PhotoResult:
    """One photo's document plus what the merge and the UI need that is not JSON (arrays)."""

    document: dict[str, Any]
    image: np.ndarray | None = None  # the analysed RGB pixels
    zones: np.ndarray | None = None  # zone ids at the analysed size
    density: np.ndarray | None = None  # hairs per analysed pixel
    findings: Findings | None = None
    skin_weight: float = 0.0  # how much to trust this photo's skin tone in a merge
    hair_weight: float = 0.0


@dataclass
class Assessment:
    photos: list[PhotoResult]
    merged: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The assessment JSON: one photo's own document, or a consultation with `photos` inside."""
        if len(self.photos) == 1:
            return self.photos[0].document
        return self.merged


def assess(
    images: ImageSource | Sequence[ImageSource],
    options: AssessOptions | None = None,
    segmenter: Segmenter | None = None,
    rules: Rules | None = None,
    names: Sequence[str] | None = None,
    on_photo: Callable[[int, int, str], None] | None = None,
) -> Assessment:
    """Assess one photo or several photos of one client. A bad photo becomes an `error` document (with a
    one-line message); the others are still assessed. on_photo(i, n, name) is called before photo i of n
    (the app shows it as progress)."""
    options = options or AssessOptions()
    if options.view not in ("auto", *VIEW_KINDS):
        raise ValueError(f"view must be auto, overview or closeup, not {options.view!r}")
    if options.mm_per_px is not None and not options.mm_per_px > 0:
        raise ValueError(f"mm_per_px must be a positive number, got {options.mm_per_px}")
    sources = list(images) if isinstance(images, list | tuple) else [images]
    if not sources:
        raise ValueError("assess needs at least one photo")
    tags = list(options.tags) if options.tags is not None else [None] * len(sources)
    if len(tags) != len(sources):
        raise ValueError(f"{len(tags)} tags for {len(sources)} photos; give one tag (or None) per photo")
    for tag in tags:
        if tag is not None and tag not in VIEW_TAGS:
            raise ValueError(f"tag {tag!r} is not one of {', '.join(VIEW_TAGS)}")
    rules = rules or load_rules()
    own = segmenter is None
    segmenter = segmenter or Segmenter.from_path()
    try:
        photos = []
        for i, (src, tag) in enumerate(zip(sources, tags, strict=True)):
            name = names[i] if names else _name_of(src, i)
            if on_photo is not None:
                on_photo(i, len(sources), name)
            photos.append(assess_photo(src, name, tag, options, segmenter, rules))
    finally:
        if own:
            segmenter.close()
    return Assessment(photos, merge(photos, options, rules) if len(photos) > 1 else photos[0].document)


def assess_photo(
    source: ImageSource,
    name: str,
    tag: str | None,
    options: AssessOptions,
    segmenter: Segmenter,
    rules: Rules,
) -> PhotoResult:
    try:
        loaded = load_image(source, name=name, max_side=options.max_side)
    except ImageError as exc:
        return PhotoResult(error_document(name, str(exc), segmenter.identity))
    image = loaded.pixels
    marker = find_marker(image) if options.use_marker else None
    mm, mm_source = _scale(options, loaded, marker)
    kind, view_source, seg, shaft_mm = _view_kind(options, tag, image, segmenter)
    if mm is None and shaft_mm is not None and kind == "closeup":
        mm, mm_source = shaft_mm, "estimated"  # detection already measured the shafts: not twice
    if seg is None or mm is not None:  # the detection pass is reused when it already is the right one
        seg = segmenter.segment(image, view_kind=kind, mm_per_px=mm)
    if mm is None and seg.mm_per_px is not None:
        mm, mm_source = seg.mm_per_px, "estimated"
    zones = seg.zones
    if kind == "closeup" and segmenter.metadata.get("smpvision.closeup_zones", "train") == "ignore":
        zones = judge_closeup(zones, seg.density, mm)
    doc = _base_document(name, loaded)
    doc["model"] = segmenter.identity
    doc["view"] = {"kind": kind, "source": view_source, "tag": tag}
    quality = check_quality(image, zones, seg.confidence, hairs=seg.hair_count)
    doc["quality"] = {"ok": quality.ok, "warnings": quality.warnings, "metrics": quality.metrics}
    doc["calibration"] = {"mm_per_px": _round(mm, 6), "source": mm_source}
    if quality.refusal:
        doc.update(status="error", error=f"{name}: {quality.refusal}")
        return PhotoResult(doc, image, zones, seg.density)
    return _measure(doc, image, zones, seg, mm, marker, kind, options, rules)


def _measure(
    doc: dict, image: np.ndarray, zones: np.ndarray, seg: SegmentationResult, mm: float | None,
    marker: Marker | None, kind: str, options: AssessOptions, rules: Rules,
) -> PhotoResult:  # fmt: skip
    stats = zone_stats(zones, seg.density, mm)
    doc["zones"] = {
        z: {"fraction_of_scalp": stats.fraction_of_scalp[z], "area_cm2": stats.area_cm2[z]}
        for z in SCALP_ZONES
    }
    per_cm2 = stats.hairs_per_cm2
    broken = implausible_density(per_cm2)
    if broken:
        doc["quality"]["warnings"].append(broken)
        doc["quality"]["ok"] = False
        per_cm2 = None  # the report, the merge and the plan then use relative density only
    doc["density"] = {
        "hairs_estimated": stats.hairs_estimated,
        "hairs_per_cm2": per_cm2,
        "relative": stats.relative,
    }
    skin = skin_tone(image, zones, marker, view=kind)
    hair = hair_colour(image, zones, marker, view=kind)
    doc["skin"] = _skin_dict(skin)
    doc["hair"] = _hair_dict(hair)
    scars = find_scars(image, zones, mm, closeup=kind == "closeup")
    scar_findings = [_scar_finding(s) for s in scars]
    flags = scalp_flags(zones, skin, kind)
    metrics = doc["quality"]["metrics"]
    if metrics["sharpness"] < BLUR_MIN or metrics["clipped_share"] > CLIPPED_MAX:
        flags.append("unusable_photo")  # scored, but the plan should wait for a better photo
    findings = Findings(
        skin=doc["skin"],
        hair=doc["hair"],
        zones=doc["zones"],
        density_relative=stats.relative,
        density_per_cm2=per_cm2,
        scars=scar_findings,
        flags=flags,
        treatment_area_cm2=_treatment_area(doc["zones"]),
    )
    rec = recommend(findings, options.preferences, rules)
    doc["scars"] = [
        {**finding, **verdict, "bbox": list(s.bbox), "count": s.count}
        for s, finding, verdict in zip(scars, scar_findings, rec["scars"], strict=True)
    ]
    doc["flags"] = flags
    doc["recommendation"] = rec
    return PhotoResult(
        doc, image, zones, seg.density, findings,
        skin_weight=(skin.pixels * skin.confidence) if skin else 0.0,
        hair_weight=float(hair.pixels) if hair else 0.0,
    )  # fmt: skip


def error_document(name: str, message: str, model: dict | None = None) -> dict[str, Any]:
    """The document of a photo that could not be assessed (the batch CLI writes these too)."""
    doc: dict[str, Any] = {"schema": SCHEMA, "file": name, "status": "error", "error": message}
    if model is not None:
        doc["model"] = model
    return doc


def load_schema() -> dict[str, Any]:
    return json.loads((resources.files("smpvision") / "schemas" / "assessment.schema.json").read_text())


# --------------------------------------------------------------------------------------------- helpers


def _name_of(src: ImageSource, i: int) -> str:
    return Path(src).name if isinstance(src, str | Path) else f"photo-{i + 1}"


def _base_document(name: str, loaded: LoadedImage) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "file": name,
        "status": "ok",
        "error": None,
        "image": {"width": loaded.width, "height": loaded.height, "sha256": loaded.sha256},
        "analysed_size": [int(loaded.pixels.shape[1]), int(loaded.pixels.shape[0])],
    }


def _scale(
    options: AssessOptions, loaded: LoadedImage, marker: Marker | None
) -> tuple[float | None, str | None]:
    """mm per pixel of the analysed (possibly draft-decoded) image, and where it came from."""
    if options.mm_per_px is not None:
        return options.mm_per_px / loaded.decode_scale, "given"
    if marker is not None:
        return marker.mm_per_px, "marker"
    return None, None


def _view_kind(
    options: AssessOptions, tag: str | None, image: np.ndarray, segmenter: Segmenter
) -> tuple[str, str, SegmentationResult | None, float | None]:
    """(kind, "given" | "detected", the whole-head pass when detection ran and found a whole head, the
    shaft-width scale estimate when detection measured one)."""
    if tag == "closeup":
        return "closeup", "given", None, None
    if tag is not None or options.view == "overview":
        return "overview", "given", None, None
    if options.view == "closeup":
        return "closeup", "given", None, None
    kind, cues, overview_pass = detect_view_of(image, segmenter)
    shaft_mm = cues.get("shaft_mm_per_px")
    return kind, "detected", overview_pass if kind == "overview" else None, shaft_mm


def _skin_dict(skin) -> dict | None:
    if skin is None:
        return None
    return {
        "lab": [round(float(v), 2) for v in skin.lab],
        "ita_deg": round(float(skin.ita_deg), 2),
        "fitzpatrick": int(skin.fitzpatrick),
        "hex": skin.hex,
        "confidence": round(float(skin.confidence), 3),
        "white_balance": skin.white_balance,
    }


def _hair_dict(hair) -> dict | None:
    if hair is None:
        return None
    return {
        "lab": [round(float(v), 2) for v in hair.lab],
        "hex": hair.hex,
        "name": hair.name,
        "grey_fraction": round(float(hair.grey_fraction), 3),
    }


def _scar_finding(s) -> dict:
    return {
        "type": s.type,
        "fraction_of_scalp": s.fraction_of_scalp,
        "area_cm2": s.area_cm2,
        "length_mm": s.length_mm,
        "width_mm": s.width_mm,
        "redness": s.redness,
        "months_since_surgery": None,
    }


def _treatment_area(zones: dict) -> float | None:
    areas = [zones[z]["area_cm2"] for z in ("thinning", "bald")]
    return round(sum(areas), 2) if all(a is not None for a in areas) else None


def _round(v: float | None, nd: int) -> float | None:
    return None if v is None else round(float(v), nd)
