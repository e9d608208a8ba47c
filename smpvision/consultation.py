"""Several photos of one client → one consultation: per-view tables, one skin tone, one hair colour,
one plan (see `smpvision.assess`).

Whole-head views overlap (top and crown share the vertex), so zone areas are not simply added: for each
view tag the photo showing the most scalp stands for it, and areas add up across different tags only.
Shares of scalp are the scalp-weighted mean over those photos.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .analysis.zones import SCALP_ZONES
from .recommend import Findings, Rules, recommend

if TYPE_CHECKING:
    from .assess import AssessOptions, PhotoResult


def merge(photos: list[PhotoResult], options: AssessOptions, rules: Rules) -> dict[str, Any]:
    from .assess import SCHEMA

    docs = [p.document for p in photos]
    ok = [p for p in photos if p.document["status"] == "ok" and p.findings is not None]
    base: dict[str, Any] = {
        "schema": SCHEMA,
        "file": ", ".join(d["file"] for d in docs),
        "status": "ok" if ok else "error",
        "error": None if ok else "no photo of this consultation could be assessed; see each photo's error",
        "photos": docs,
    }
    if not ok:
        return base
    overviews = [p for p in ok if p.document["view"]["kind"] == "overview"] or ok
    chosen = _one_per_tag(overviews)
    zones, relative, per_cm2 = _zone_tables(chosen)
    best_skin = max(ok, key=lambda p: p.skin_weight)
    best_hair = max(ok, key=lambda p: p.hair_weight)
    skin = best_skin.document["skin"] if best_skin.skin_weight > 0 else None
    hair = best_hair.document["hair"] if best_hair.hair_weight > 0 else None
    scars = [dict(s, file=p.document["file"]) for p in ok for s in p.findings.scars]
    flags = sorted({f for p in ok for f in p.findings.flags})
    areas = [zones[z]["area_cm2"] for z in ("thinning", "bald")]
    findings = Findings(
        skin=skin,
        hair=hair,
        zones=zones,
        density_relative=relative,
        density_per_cm2=per_cm2,
        scars=scars,
        flags=flags,
        treatment_area_cm2=round(sum(areas), 2) if all(a is not None for a in areas) else None,
    )
    rec = recommend(findings, options.preferences, rules)
    warnings = [f"{p.document['file']}: {w}" for p in ok for w in p.document["quality"]["warnings"]]
    base.update(
        image=None,
        quality={"ok": not warnings, "warnings": warnings},
        calibration={"mm_per_px": None, "source": None},
        zones=zones,
        density={
            "hairs_estimated": None,
            "hairs_per_cm2": per_cm2,
            "relative": relative,
        },
        skin=skin,
        hair=hair,
        skin_from=best_skin.document["file"] if skin else None,
        hair_from=best_hair.document["file"] if hair else None,
        scars=[{**s, **v} for s, v in zip(scars, rec["scars"], strict=True)],
        flags=flags,
        views=[_view_row(p) for p in ok],
        recommendation=rec,
    )
    return base


def _one_per_tag(photos: list[PhotoResult]) -> list[PhotoResult]:
    best: dict[str, PhotoResult] = {}
    for i, p in enumerate(photos):
        key = p.document["view"].get("tag") or f"untagged-{i}"  # untagged photos each count as a view
        if key not in best or _scalp(p) > _scalp(best[key]):
            best[key] = p
    return list(best.values())


def _scalp(p: PhotoResult) -> float:
    return float(p.document["quality"]["metrics"].get("scalp_share", 0.0))


def _zone_tables(chosen: list[PhotoResult]) -> tuple[dict, dict, dict | None]:
    """Scalp-weighted zone shares, areas summed over views, per-zone densities averaged over the views
    that measured them (hairs/cm² only from photos with a scale)."""
    weights = [max(_scalp(p), 1e-6) for p in chosen]
    docs = [p.document for p in chosen]
    scaled = [d["density"]["hairs_per_cm2"] for d in docs if d["density"]["hairs_per_cm2"] is not None]
    zones, relative, per_cm2 = {}, {}, {}
    for z in SCALP_ZONES:
        frac = sum(w * d["zones"][z]["fraction_of_scalp"] for d, w in zip(docs, weights, strict=True))
        areas = [d["zones"][z]["area_cm2"] for d in docs]
        zones[z] = {
            "fraction_of_scalp": round(frac / sum(weights), 5),
            "area_cm2": round(sum(areas), 3) if None not in areas else None,
        }
        relative[z] = _mean([d["density"]["relative"][z] for d in docs], 3)
        per_cm2[z] = _mean([d[z] for d in scaled], 1)
    return zones, relative, per_cm2 if scaled else None


def _mean(values: list[float | None], digits: int) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), digits) if known else None


def _view_row(p: PhotoResult) -> dict[str, Any]:
    d = p.document
    return {
        "file": d["file"],
        "kind": d["view"]["kind"],
        "tag": d["view"]["tag"],
        "zones": d["zones"],
        "density_relative": d["density"]["relative"],
        "hairs_per_cm2": d["density"]["hairs_per_cm2"],
    }
