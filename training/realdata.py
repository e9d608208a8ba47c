"""Real-photo checks: loaders and metrics for the two evaluation sets described in realdata/README.md.

- hair-loss levels (phone photos, Norwood-like LEVEL_2…7 per photo): does the predicted share of scalp that
  is thinning or bald rise with the level? Spearman ρ per view.
- trichoscopy counts (dermoscope close-ups, one VOC box per hair): predicted hair count against the boxes.

The photos are evaluation data, never part of the repository; every function takes their folder as an
argument. Nothing here needs torch: `segment` is any callable with the Segmenter.segment signature.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

__all__ = [
    "HAIRLOSS_ATTRIBUTION",
    "VIEWS",
    "CountPhoto",
    "LevelPhoto",
    "evaluate_counts",
    "evaluate_severity",
    "format_table",
    "load_hairloss_levels",
    "load_trichoscopy",
    "is_training_person",
    "person_key",
    "spearman",
]

HAIRLOSS_ATTRIBUTION = "hair-loss dataset, uze, Roboflow Universe, CC BY 4.0"
VIEWS = ("Back", "Front", "Left", "Right", "Top-Down")
LEVELS = tuple(range(2, 8))
SPLITS = ("train", "valid")
# Share of hair-loss persons whose photos a model may train on (the weak severity loss, data.levels);
# the rest are held out and scored as `severity_heldout`. One definition for training and evaluation.
LEVELS_TRAIN_SHARE = 0.6
_VIEW_KEYS = {v.lower().replace("-", ""): v for v in VIEWS}
# "<subject>-<view>_jpg.rf.<hash>.jpg"; a few files lost the dash ("31Front_jpg…")
_NAME = re.compile(r"^(?P<subject>.+?)-?(?P<view>top-?down|front|back|left|right)(?=[_.]|$)", re.IGNORECASE)
Segment = Callable[..., Any]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LevelPhoto:
    path: Path
    split: str  # "train" | "valid"
    subject: str
    view: str  # one of VIEWS
    level: int  # 2..7


@dataclass(frozen=True)
class CountPhoto:
    path: Path
    hair_count: int
    boxes: tuple[tuple[int, int, int, int], ...]  # (xmin, ymin, xmax, ymax), corners sorted
    classes: tuple[str, ...]  # premium / single / undersize / abnormal, one per box


# ---------------------------------------------------------------------------------------------- loaders


def load_hairloss_levels(root: Path | str) -> list[LevelPhoto]:
    """Photos of `root/{train,valid}/` (or of `root` itself when it holds `_classes.csv`) with their level."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"hair-loss folder {root} does not exist; pass the hairloss-levels/ folder")
    if (root / "_classes.csv").is_file():
        splits = [(root.name, root)]
    else:
        splits = [(s, root / s) for s in SPLITS if (root / s / "_classes.csv").is_file()]
    if not splits:
        raise FileNotFoundError(
            f"{root} has no train/_classes.csv or valid/_classes.csv; is it hairloss-levels/?"
        )
    photos = [p for name, folder in splits for p in _read_level_split(folder, name)]
    return sorted(photos, key=lambda p: (p.split, p.path.name))


def _read_level_split(folder: Path, split: str) -> list[LevelPhoto]:
    table = folder / "_classes.csv"
    with table.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, skipinitialspace=True))  # the export writes ", " between columns
    if not rows:
        raise ValueError(f"{table} is empty")
    header = [h.strip() for h in rows[0]]
    level_cols = {i: int(h.split("_")[1]) for i, h in enumerate(header) if re.fullmatch(r"LEVEL_\d+", h)}
    if not header or header[0].lower() != "filename" or not level_cols:
        raise ValueError(f"{table}: header {header} is not 'filename, LEVEL_2, …, LEVEL_7'")
    photos = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not row[0].strip():
            continue
        name = row[0].strip()
        hot = [lvl for i, lvl in level_cols.items() if i < len(row) and row[i].strip() == "1"]
        if len(hot) != 1:
            raise ValueError(
                f"{table} line {line}: {name} needs exactly one LEVEL column set to 1, has {len(hot)}"
            )
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{table} line {line} lists {name}, which is not in {folder}")
        subject, view = parse_subject_view(name)
        photos.append(LevelPhoto(path, split, subject, view, hot[0]))
    return photos


def person_key(photo: LevelPhoto) -> str:
    """Who a photo shows. Subject numbers restart in every level (subject 1 appears at five levels, with
    different heads), so a person is a (level, subject) pair; the rotated copies and the train/valid
    copies of one source photo share it."""
    return f"L{photo.level}/{photo.subject}"


def is_training_person(photo: LevelPhoto) -> bool:
    """True for the LEVELS_TRAIN_SHARE of persons a model may train on: a fixed hash of person_key, so
    training and evaluation agree without sharing state, and all views of a person fall on one side."""
    digest = hashlib.sha256(f"smpvision-levels/{person_key(photo)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < LEVELS_TRAIN_SHARE


def parse_subject_view(name: str) -> tuple[str, str]:
    """'6-Top-Down_jpg.rf.….jpg' → ('6', 'Top-Down'); '31Front_jpg…' → ('31', 'Front')."""
    m = _NAME.match(name)
    if m is None:
        raise ValueError(
            f"cannot read subject and view from {name!r}; expected '<subject>-<{'|'.join(VIEWS)}>_…'"
        )
    return m["subject"].rstrip("-_ "), _VIEW_KEYS[m["view"].lower().replace("-", "")]


def load_trichoscopy(root: Path | str) -> list[CountPhoto]:
    """Close-ups of `root/images/` with their VOC boxes from `root/annotations/` (those named in
    `root/list.txt` when it exists, else every annotation)."""
    root = Path(root)
    images, notes = root / "images", root / "annotations"
    for folder in (images, notes):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} does not exist; pass the trichoscopy-counts/ folder")
    listing = root / "list.txt"
    if listing.is_file():
        names = [
            Path(ln.strip()).stem for ln in listing.read_text(encoding="utf-8").splitlines() if ln.strip()
        ]
        # list.txt names one image that this copy lacks altogether (no image, no annotation): skip such
        # entries with a warning; half an entry (image without annotation or the reverse) is an error
        gone = [n for n in names if not (notes / f"{n}.xml").exists() and _image_path(images, n) is None]
        if gone:
            warnings.warn(
                f"{listing}: {len(gone)} listed image(s) absent, skipped: {', '.join(gone[:5])}", stacklevel=2
            )
            names = [n for n in names if n not in set(gone)]
    else:
        names = sorted(p.stem for p in notes.glob("*.xml"))
    if not names:
        raise ValueError(f"{root} lists no annotated images")
    return [_read_count_photo(images, notes / f"{name}.xml", name) for name in names]


def _image_path(images: Path, name: str) -> Path | None:
    return next(
        (p for p in (images / f"{name}{ext}" for ext in (".jpg", ".jpeg", ".png")) if p.is_file()), None
    )


def _read_count_photo(images: Path, xml_path: Path, name: str) -> CountPhoto:
    if not xml_path.is_file():
        raise FileNotFoundError(f"annotation {xml_path} is missing for image {name}")
    path = _image_path(images, name)
    if path is None:
        raise FileNotFoundError(f"image {name}.jpg (or .png) is missing from {images}")
    try:
        tree = ET.parse(xml_path)
    except ET.ParseError as err:
        raise ValueError(f"{xml_path} is not valid XML: {err}") from err
    boxes, classes = [], []
    for obj in tree.getroot().iter("object"):
        box = obj.find("bndbox")
        try:
            x0, y0, x1, y1 = (round(float(box.findtext(k))) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError) as err:
            raise ValueError(f"{xml_path}: an <object> lacks a numeric bndbox xmin/ymin/xmax/ymax") from err
        # some boxes list their corners in reverse order
        boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        classes.append((obj.findtext("class") or obj.findtext("name") or "").strip())
    return CountPhoto(path, len(boxes), tuple(boxes), tuple(classes))


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


# ---------------------------------------------------------------------------------------------- metrics


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman ρ (average ranks for ties, then Pearson); NaN with < 3 pairs or a constant side."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.shape} vs {y.shape}")
    if len(x) < 3:
        return math.nan
    rx, ry = _average_ranks(x), _average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    return float((rx * ry).sum() / den) if den > 0 else math.nan


def _average_ranks(a: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # 0-based rank of each distinct value's first copy
    return (first + (counts - 1) / 2.0)[inverse] + 1


def _share_of_scalp(zones: np.ndarray, classes: tuple[int, ...]) -> float:
    """Pixels of `classes` / (hair + thinning + bald + scar) pixels; NaN when no scalp is visible."""
    counts = np.bincount(np.asarray(zones, np.uint8).ravel(), minlength=5)
    scalp = int(counts[1:5].sum())
    return float(counts[list(classes)].sum()) / scalp if scalp else math.nan


def loss_share(zones: np.ndarray) -> float:
    """(thinning + bald) / (hair + thinning + bald + scar) pixels; NaN when no scalp is visible."""
    return _share_of_scalp(zones, (2, 3))


def scar_share(zones: np.ndarray) -> float:
    """scar / (hair + thinning + bald + scar) pixels; NaN when no scalp is visible."""
    return _share_of_scalp(zones, (4,))


# a hair-loss photo with more of its scalp called scar than this is counted as "called scar" (these photos
# show hair loss, not scars: v3 called 33 of 300 so, mostly level 6-7 bald crowns)
CALLED_SCAR_SHARE = 0.2


def evenly_spaced(items: Sequence[Any], limit: int | None) -> list[Any]:
    """A deterministic subset of at most `limit` items spread over the whole (sorted) sequence."""
    if limit is None or len(items) <= limit:
        return list(items)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    idx = np.unique(np.round(np.linspace(0, len(items) - 1, limit)).astype(int))
    return [items[i] for i in idx]


def evaluate_severity(
    photos: Sequence[LevelPhoto],
    segment: Segment,
    limit_per_view: int | None = None,
    progress: Progress | None = None,
) -> dict:
    """Run `segment(image, view_kind="overview")` on each photo and relate loss_share to level.

    Returns {"views": {view: stats}, "all": stats, "heldout_views": {view: stats of the persons
    is_training_person leaves out}, "photos": [per-photo rows], "attribution": …}; stats =
    n, n_subjects (persons: person_key), n_no_scalp, rho (photo level), rho_subjects (mean loss share per
    person and view — each source photo appears in up to 3 rotated copies, so photos are not
    independent), and
    mean_loss_share_by_level {level: mean}."""
    by_view: dict[str, list[LevelPhoto]] = {}
    for p in sorted(photos, key=lambda p: (p.view, p.split, p.path.name)):
        by_view.setdefault(p.view, []).append(p)
    chosen = [p for view in sorted(by_view) for p in evenly_spaced(by_view[view], limit_per_view)]
    rows = []
    for i, photo in enumerate(chosen):
        zones = _zones_of(segment(load_rgb(photo.path), view_kind="overview"), photo.path)
        rows.append({"name": photo.path.name, "split": photo.split, "subject": photo.subject,
                     "view": photo.view, "level": photo.level, "loss_share": loss_share(zones),
                     "scar_share": scar_share(zones),
                     "training_person": is_training_person(photo)})  # fmt: skip
        if progress is not None:
            progress(i + 1, len(chosen))
    heldout = [r for r in rows if not r["training_person"]]
    return {
        "views": {view: _severity_stats([r for r in rows if r["view"] == view]) for view in sorted(by_view)},
        "all": _severity_stats(rows),
        # the persons no model trains on (data.levels trains on the others): the figures to compare
        # models by once one has seen the set
        "heldout_views": {
            view: _severity_stats([r for r in heldout if r["view"] == view]) for view in sorted(by_view)
        },
        "photos": rows,
        "attribution": HAIRLOSS_ATTRIBUTION,
    }


def _zones_of(result: Any, path: Path) -> np.ndarray:
    zones = np.asarray(getattr(result, "zones", None))
    if zones.ndim != 2:
        raise ValueError(
            f"segment() on {path.name} returned zones of shape {zones.shape}; need (H, W) class ids"
        )
    return zones


def _severity_stats(rows: list[dict]) -> dict:
    ok = [r for r in rows if not math.isnan(r["loss_share"])]
    by_level = {lvl: [r["loss_share"] for r in ok if r["level"] == lvl] for lvl in LEVELS}
    # one point per person and view (person_key: subject numbers restart per level). Until 2026-11-22
    # this grouped by subject number alone, which averaged up to six heads of different levels together
    per_person: dict[tuple[int, str, str], list[float]] = {}
    for r in ok:
        per_person.setdefault((r["level"], r["subject"], r["view"]), []).append(r["loss_share"])
    person_share = [float(np.mean(shares)) for shares in per_person.values()]
    person_level = [level for level, _, _ in per_person]
    return {
        "n": len(rows),
        "n_subjects": len({(r["level"], r["subject"]) for r in rows}),
        "n_no_scalp": len(rows) - len(ok),
        "rho": spearman([r["loss_share"] for r in ok], [r["level"] for r in ok]),
        "rho_subjects": spearman(person_share, person_level),
        "mean_loss_share_by_level": {lvl: float(np.mean(v)) for lvl, v in by_level.items() if v},
        "n_called_scar": sum(r["scar_share"] > CALLED_SCAR_SHARE for r in ok),
    }


def evaluate_counts(
    photos: Sequence[CountPhoto],
    segment: Segment,
    mm_per_px: float | None = None,
    progress: Progress | None = None,
) -> dict:
    """Predicted hair count (density.sum()) of `segment(image, view_kind="closeup")` against the boxes.

    mm_per_px: the set's known scale, passed on to segment (as mm_per_px=…) instead of letting it estimate
    one. (The trichoscopy set's burnt-in 1 mm bar spans 360 px at 1280×1024: ≈ 0.00278 mm/px.)"""
    if mm_per_px is not None and not mm_per_px > 0:
        raise ValueError(f"mm_per_px must be positive, got {mm_per_px}")
    extra = {} if mm_per_px is None else {"mm_per_px": mm_per_px}
    rows = []
    for i, photo in enumerate(photos):
        image = load_rgb(photo.path)
        result = segment(image, view_kind="closeup", **extra)
        scale = getattr(result, "mm_per_px", None)
        density = np.asarray(result.density, np.float64)
        in_boxes, box_area = share_in_boxes(density, photo.boxes, image.shape[:2])
        rows.append({"name": photo.path.name, "true": photo.hair_count, "pred": float(density.sum()),
                     "mm_per_px": None if scale is None else float(scale),
                     "scale_source": getattr(result, "scale_source", None),
                     "share_in_boxes": in_boxes, "box_area_share": box_area})  # fmt: skip
        if progress is not None:
            progress(i + 1, len(photos))
    true = np.array([r["true"] for r in rows], np.float64)
    pred = np.array([r["pred"] for r in rows], np.float64)
    has = true > 0  # relative error is undefined for an image without hairs
    rel = np.abs(pred[has] - true[has]) / true[has]
    nan = math.nan
    # a yardstick, not a method: the error of answering every image with the set's own mean count (it
    # uses the truth, so no model can be handed it); a count below it says the model does not count yet
    constant = np.abs(true[has].mean() - true[has]) / true[has] if has.any() else np.array([])
    varied = len(rows) > 1 and np.ptp(true) > 0 and np.ptp(pred) > 0
    return {
        "n": len(rows),
        "mae": float(np.mean(np.abs(pred - true))) if rows else nan,
        "mean_rel_error": float(rel.mean()) if rel.size else nan,
        "median_rel_error": float(np.median(rel)) if rel.size else nan,
        "mean_true": float(true.mean()) if rows else nan,
        "mean_pred": float(pred.mean()) if rows else nan,
        "pearson_r": float(np.corrcoef(true, pred)[0, 1]) if varied else nan,
        "constant_mean_rel_error": float(constant.mean()) if constant.size else nan,
        "n_scale_estimated": sum(r["scale_source"] == "estimated" for r in rows),
        # where the count comes from: a model that counts the boxed shafts puts its density in the boxes;
        # a map spread evenly over the frame would score the boxes' share of the area
        "median_share_in_boxes": _median_of(rows, "share_in_boxes"),
        "median_box_area_share": _median_of(rows, "box_area_share"),
        "images": rows,
    }


BOX_PAD = 0.15  # of a box's longer side: an exit lies at a box's end, and its blur spills past it


def share_in_boxes(
    density: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], image_hw: tuple[int, int]
) -> tuple[float | None, float]:
    """(share of the density map's mass inside the padded boxes, share of the frame's area they cover).

    The map may come at another size than the photo: boxes are scaled to it. The share is None for an
    empty map."""
    h, w = density.shape[:2]
    sy, sx = h / image_hw[0], w / image_hw[1]
    inside = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in boxes:
        pad = BOX_PAD * max(x1 - x0, y1 - y0)
        r0, r1 = int(max(0, (y0 - pad) * sy)), int(np.ceil(min(image_hw[0], y1 + pad) * sy))
        c0, c1 = int(max(0, (x0 - pad) * sx)), int(np.ceil(min(image_hw[1], x1 + pad) * sx))
        inside[r0:r1, c0:c1] = True
    total = float(density.sum())
    share = float(density[inside].sum()) / total if total > 0 else None
    return share, float(inside.mean())


def _median_of(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return float(np.median(vals)) if vals else math.nan


# ---------------------------------------------------------------------------------------------- report


def format_table(results: dict) -> str:
    """Plain-text tables for {"severity": evaluate_severity(…), "counts": evaluate_counts(…)} (either key
    may be missing), or for one of those results on its own."""
    if "views" in results:
        results = {"severity": results}
    elif "mae" in results:
        results = {"counts": results}
    parts = []
    if results.get("severity"):
        parts.append(_severity_table(results["severity"]))
    if results.get("counts"):
        parts.append(_counts_table(results["counts"]))
    return "\n\n".join(parts) if parts else "(no results)"


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _severity_table(sev: dict) -> str:
    head = f"{'view':<9} {'n':>5} {'subj':>5} {'no scalp':>8} {'rho':>7} {'rho subj':>8}  " + " ".join(
        f"{'L' + str(lvl):>6}" for lvl in LEVELS
    )
    lines = ["Severity: Spearman rho of (thinning+bald)/scalp vs level; mean share per level", head]
    for name, st in [*sev["views"].items(), ("all", sev["all"])]:
        means = st["mean_loss_share_by_level"]
        lines.append(
            f"{name:<9} {st['n']:>5} {st['n_subjects']:>5} {st['n_no_scalp']:>8} {_fmt(st['rho']):>7} "
            f"{_fmt(st['rho_subjects']):>8}  "
            + " ".join(f"{_fmt(means.get(lvl), '.2f'):>6}" for lvl in LEVELS)
        )
    held = sev["heldout_views"].values()
    lines.append(
        f"hair-loss photos with more than {CALLED_SCAR_SHARE:.0%} of the scalp called scar: "
        f"{sev['all']['n_called_scar']} of {sev['all']['n']} (held-out persons: "
        f"{sum(v['n_called_scar'] for v in held)} of {sum(v['n'] for v in held)})"
    )
    lines.append(f"data: {sev.get('attribution', HAIRLOSS_ATTRIBUTION)}")
    return "\n".join(lines)


def _counts_table(cnt: dict) -> str:
    cols = ("n", "MAE", "mean rel", "median rel", "mean true", "mean pred", "pearson r", "scale est")
    vals = (
        str(cnt["n"]),
        _fmt(cnt["mae"], ".2f"),
        _fmt(cnt["mean_rel_error"]),
        _fmt(cnt["median_rel_error"]),
        _fmt(cnt["mean_true"], ".2f"),
        _fmt(cnt["mean_pred"], ".2f"),
        _fmt(cnt.get("pearson_r"), ".2f"),
        str(cnt.get("n_scale_estimated", 0)),
    )
    return "\n".join([
        "Hair counts (trichoscopy boxes vs density sum)",
        " ".join(f"{c:>10}" for c in cols),
        " ".join(f"{v:>10}" for v in vals),
        "yardstick: the set's mean count given for every image would score mean rel "
        + _fmt(cnt.get("constant_mean_rel_error")),
        "where the density lies: median share inside the hair boxes (padded 15 %) "
        + _fmt(cnt.get("median_share_in_boxes"), ".2f")
        + "; an even spread would put " + _fmt(cnt.get("median_box_area_share"), ".2f") + " there",
    ])  # fmt: skip
