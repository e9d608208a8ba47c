"""`smpvision evaluate`: score an exported model (the ONNX file that ships, through the same runtime
wrapper users call) on rendered held-out scenes, annotated-photo folders and the real photo sets.

Needs no torch: evaluation measures what ships, not the training graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from smpvision.annotations import AnnotatedFolder
from smpvision.segmenter import Segmenter
from smpvision.synth import render_sample

from .metrics import (
    LOSS_CLASSES,
    ZoneScores,
    closeup_zone_targets,
    count_error,
    summarise_counts,
    visible_zone_targets,
)
from .seeds import heldout_seed

Sample = tuple[str, np.ndarray, np.ndarray, float | None, dict]  # name, image, zones, hair count, label


class _Group:
    def __init__(self) -> None:
        self.scores = ZoneScores()
        self.count_errors: list[float] = []
        self.n = 0

    def add(self, pred: np.ndarray, truth: np.ndarray, count: float | None, true_count: float | None) -> None:
        self.n += 1
        self.scores.add(pred, truth)
        if count is not None and true_count is not None:
            self.count_errors.append(count_error(count, true_count))

    def summary(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "miou_thinning_bald_scar": self.scores.mean_iou(LOSS_CLASSES),
            "per_class": self.scores.per_class(),
            "hair_count": summarise_counts(self.count_errors),
        }


def score_samples(
    samples: Iterable[Sample],
    segment: Callable[[np.ndarray, dict], Any],
    progress: Callable[[int], None] | None = None,
    closeup_policy: str = "train",
) -> dict[str, Any]:
    """samples: (name, image, zones, true hair count or None, label). Totals plus breakdowns by
    Fitzpatrick type and by view (kind/region). closeup_policy "ignore" (the model's metadata says so)
    scores close-ups on background and scar only, as the model was trained."""
    groups: dict[str, _Group] = defaultdict(_Group)
    for i, (_, image, zones, true_count, label) in enumerate(samples):
        result = segment(image, label)
        zones = scoring_targets(zones, label, closeup_policy)
        pred = result.zones
        count = result.hair_count if true_count is not None else None
        fitz = (label.get("skin") or {}).get("fitzpatrick")
        view = label.get("view") or {}
        keys = ["all", f"fitzpatrick/{fitz}", f"view/{view.get('kind')}/{view.get('region')}"]
        if view.get("kind") == "overview":
            keys.append("overview")  # the whole-head photos alone: the zone maps a technician reads
        for key in keys:
            groups[key].add(pred, zones, count, true_count)
        if progress:
            progress(i + 1)
    out = {name: groups.pop(name).summary() for name in ("all", "overview") if name in groups}
    out["by_fitzpatrick"] = {
        k.split("/", 1)[1]: g.summary() for k, g in sorted(groups.items()) if k[0] == "f"
    }
    out["by_view"] = {k.split("/", 1)[1]: g.summary() for k, g in sorted(groups.items()) if k[0] == "v"}
    return out


def scoring_targets(zones: np.ndarray, label: dict, closeup_policy: str) -> np.ndarray:
    """The zones a photo is scored against: under the "ignore" policy a close-up is scored on what the
    model was trained to output there (scalp / scar / background)."""
    if closeup_policy == "ignore" and (label.get("view") or {}).get("kind") == "closeup":
        return closeup_zone_targets(zones)
    return zones


def rendered_scenes(
    seeds: Iterable[tuple[int, int]], size: int, closeup_fraction: float = 0.35, name: str = "heldout",
    visible: bool = True,
) -> Iterator[Sample]:  # fmt: skip
    """Rendered scenes as samples, mixed views, named `name` and their seed's index. visible: zones as the
    pixels show them (metrics.visible_zone_targets); False: the zones as drawn, the scoring before
    2026-11-22."""
    for seed in seeds:
        s = render_sample(seed, size=size, closeup_fraction=closeup_fraction)
        zones = visible_zone_targets(s.zones, s.hidden) if visible else s.zones
        yield f"{name}_{seed[1]:05d}", s.image, zones, float(len(s.hairs)), s.meta


def rendered_heldout(
    n: int, size: int, closeup_fraction: float = 0.35, visible: bool = True
) -> Iterator[Sample]:
    """Scenes from the held-out seed space (never rendered for training), mixed views."""
    return rendered_scenes((heldout_seed(i) for i in range(n)), size, closeup_fraction, visible=visible)


def folder_samples(path: Path) -> Iterable[Sample]:
    for sample in AnnotatedFolder(path):
        hairs = sample.label.get("hairs")
        yield (
            sample.name,
            sample.image,
            sample.zones,
            (len(hairs) if hairs is not None else None),
            sample.label,
        )


SCALE_MODES = ("as_is", "label", "estimated")


def segment_with_label(seg: Segmenter, scale: str) -> Callable[[np.ndarray, dict], Any]:
    """Run each photo as its label's view kind. scale: "as_is" runs rendered scenes as they are (already
    at the training scale); "label" passes a close-up's labelled mm/px on to the runtime, which brings it
    to the model's scale as it would a user's; "estimated" gives the runtime no scale, so that close-ups
    go through the shaft-width estimate as a photo sent without one does."""
    if scale not in SCALE_MODES:
        raise ValueError(f"scale must be one of {SCALE_MODES}, not {scale!r}")

    def run(image: np.ndarray, label: dict) -> Any:
        if scale == "as_is":
            return seg.segment(image, view_kind=None)
        kind = (label.get("view") or {}).get("kind")
        given = label.get("mm_per_px") if kind == "closeup" and scale == "label" else None
        return seg.segment(image, view_kind=kind, mm_per_px=given)

    return run


def set_aside_closeups(samples: Iterable[Sample], closeups: list[Sample]) -> Iterator[Sample]:
    """Pass every sample on and keep the close-ups in `closeups`, for a second pass through the runtime's
    close-up path without rendering them again."""
    for sample in samples:
        if (sample[4].get("view") or {}).get("kind") == "closeup":
            closeups.append(sample)
        yield sample


def headline(results: dict[str, Any]) -> list[str]:
    """The acceptance figures as printable lines."""
    lines = []
    for name, res in results.items():
        if not isinstance(res, dict):
            continue
        if "all" in res and "per_class" in res["all"]:
            for part in ("all", "overview"):
                if part not in res:
                    continue
                a = res[part]
                miou = _f(a["miou_thinning_bald_scar"])
                lines.append(
                    f"{name} [{part}]: n={a['n']}  mIoU(thinning,bald,scar)={miou}  "
                    + "  ".join(f"IoU {c}={_f(v['iou'])}" for c, v in a["per_class"].items())
                    + f"  median hair-count error={_f(a['hair_count']['median_rel_error'], pct=True)}"
                )
            for group in ("by_fitzpatrick", "by_view"):
                for key, g in res.get(group, {}).items():
                    lines.append(
                        f"    {group[3:]} {key}: n={g['n']} mIoU={_f(g['miou_thinning_bald_scar'])} "
                        f"count median err={_f(g['hair_count']['median_rel_error'], pct=True)}"
                    )
    return lines


def _f(v: float | None, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "n/a"
    return f"{v:.1%}" if pct else f"{v:.3f}"


def evaluate_real(
    seg: Segmenter, root: Path, limit_per_view: int | None = None, closeup_mm_per_px: float | None = None
) -> dict[str, Any]:
    """Both real sets under `root` (whichever are present): severity Spearman per view on
    hairloss-levels, hair count error on trichoscopy-counts (scale estimated from each image)."""
    from smpvision.cli import Progress

    from . import realdata

    out: dict[str, Any] = {}
    levels, counts = root / "hairloss-levels", root / "trichoscopy-counts"
    if levels.is_dir():
        photos = realdata.load_hairloss_levels(levels)
        bar = Progress(len(photos), "hairloss-levels")
        out["severity"] = realdata.evaluate_severity(photos, seg.segment, limit_per_view, _bar(bar))
        bar.close()
    if counts.is_dir():
        photos = realdata.load_trichoscopy(counts)
        bar = Progress(len(photos), "trichoscopy-counts")
        out["counts"] = realdata.evaluate_counts(photos, seg.segment, progress=_bar(bar))
        bar.close()
        if closeup_mm_per_px is not None:  # the same photos at a known scale: isolates the scale estimate
            known = realdata.evaluate_counts(photos, seg.segment, mm_per_px=closeup_mm_per_px)
            out["counts_known_scale"] = {**known, "mm_per_px_given": closeup_mm_per_px}
    if not out:
        raise FileNotFoundError(f"{root} holds neither hairloss-levels/ nor trichoscopy-counts/")
    print(realdata.format_table({k: v for k, v in out.items() if k in ("severity", "counts")}))
    if "severity" in out:
        td = out["severity"]["heldout_views"].get("Top-Down", {})
        print(
            f"held-out persons only: Top-Down rho {_fmt_rho(td.get('rho'))} per photo, "
            f"{_fmt_rho(td.get('rho_subjects'))} per subject (n = {td.get('n', 0)})"
        )
    if "counts_known_scale" in out:
        k = out["counts_known_scale"]
        print(
            f"trichoscopy at known scale {closeup_mm_per_px} mm/px: MAE {k['mae']:.2f}, "
            f"mean relative error {k['mean_rel_error']:.1%}"
        )
    return {f"real_{k}": v for k, v in out.items()}


def _fmt_rho(value: float | None) -> str:
    return "n/a" if value is None or value != value else f"{value:.2f}"


def _bar(bar: Any) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done)

    return update
