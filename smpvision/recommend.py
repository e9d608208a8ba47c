"""SMP recommendation: pigment shade and dilution, dots per cm², sessions, scar eligibility and flags.

Every number and every sentence a technician reads comes from two commented YAML files
(configs/recommend.yaml, configs/pigments.yaml; the packaged copies are the defaults) so a clinic can edit
them; both are validated on load. `recommend()` returns the assessment JSON's `recommendation` object.

Decisions the YAML cannot change:
- The pigment is always recommended (it depends only on skin and hair), even when there is no plan.
- "No plan" means sessions [], every dots_per_cm2 value null and no estimates. It happens when a flag in
  flags.no_plan is raised (inflamed scalp, possible alopecia areata: refer; unusable photo: retake) or when
  there is nothing to treat (no thinning/bald zone, no eligible scar).
- A raised scar is never planned and sets refer (flags.refer), but the other zones are still planned,
  provisionally: the flag says the plan waits for the doctor, because keloid-prone skin can scar anywhere.
- A fresh scar (red, or too few months since surgery) is left out with a "wait" note; the rest is planned.
- With a plan, thinning/bald/hairline always carry a density (the target if that zone is dotted); scar is
  null unless a scar is eligible; hair is null unless dots.hair_zone > 0.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import typing
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import yaml

from smpvision.contracts import SCAR_TYPES

# Flag codes this module reads or writes: the analysis' flags plus the ones derived here.
FLAG_CODES: tuple[str, ...] = tuple(
    "raised_scar fresh_scar inflamed possible_alopecia_areata unusable_photo long_hair dry_skin "
    "low_skin_confidence".split()
)
LOOKS: tuple[str, ...] = ("shaved", "density")
PLAN_ZONES: tuple[str, ...] = ("thinning", "bald")
CONFIG_DIR = Path(__file__).parent / "configs"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


# ---------------------------------------------------------------- inputs
@dataclass
class Findings:
    """What the analysis measured for one client, merged over photos (see the module docstring)."""

    skin: dict | None  # {lab, ita_deg, fitzpatrick 1-6, hex, confidence 0-1}; None = not measured
    hair: dict | None  # {lab, hex, name, grey_fraction}; None = not measured
    zones: dict[str, dict]  # hair|thinning|bald|scar → {fraction_of_scalp, area_cm2 or None}
    density_relative: dict[str, float | None]  # zone → density relative to the own hair zone (= 1.0)
    density_per_cm2: dict[str, float | None] | None  # zone → hairs/cm²; None without a scale
    scars: list[dict]  # {type, fraction_of_scalp, area_cm2, redness 0-1, months_since_surgery or None}
    flags: list[str]  # analysis flags: inflamed, possible_alopecia_areata, unusable_photo, long_hair, ...
    treatment_area_cm2: float | None  # thinning + bald (+ scar) cm² when a scale is known


@dataclass
class Preferences:
    look: str = "shaved"  # "shaved" (shaved-head look) or "density" (dots between hair kept long)
    desired_hair: str | None = None  # hair colour the result must match; None = the client's own


# ---------------------------------------------------------------- rules (YAML → dataclasses)
# Fixed-length lists are typed as tuples, so their lengths are checked with the keys.
@dataclass
class Pigment:
    name: str
    label: str
    hex: str
    suits_fitzpatrick: list[int]
    suits_hair: list[str]
    note: str


@dataclass
class Catalogue:
    dilution_steps: list[float]
    default_shade: str
    ink_fade_per_part: float
    pigments: list[Pigment]


@dataclass
class SkinRules:
    min_confidence: float
    fallback_fitzpatrick: int
    fallback_hex: str
    ita_thresholds: tuple[float, float, float, float, float]  # limits between types I..VI
    base_dilution: tuple[float, float, float, float, float, float]  # types I..VI
    bluish_risk_max_fitzpatrick: int
    low_contrast_min_fitzpatrick: int


@dataclass
class HairRules:
    extra_dilution: dict[str, float]
    unknown_extra_dilution: float
    grey_fraction_extra: float


@dataclass
class DotRules:
    full_density_per_cm2: float
    natural_hairs_per_cm2: float
    hair_scale_range: tuple[float, float]
    hair_zone: float
    thinning_shaved: float
    thinning_density_range: tuple[float, float]
    assumed_thinning_relative: float
    bald: float
    scar: float
    hairline: float
    min_zone_fraction: float


@dataclass
class Focus:
    two: tuple[str, str]
    three: tuple[str, str, str]
    four: tuple[str, str, str, str]


@dataclass
class SessionRules:
    default_count: int
    small_count: int
    extra_count: int
    small_area_cm2: float
    small_fraction: float
    extra_session_flags: list[str]
    intervals_days: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]  # before sessions 2, 3, 4
    session_dot_fractions: tuple[float, float, float, float]
    dots_per_hour: tuple[float, float]
    max_hours_per_session: float
    touch_up_years: tuple[int, int]
    focus: Focus
    scar_focus: str


@dataclass
class ScarNotes:
    eligible: str
    fresh: str
    raised: str


@dataclass
class ScarRules:
    max_redness: float
    min_months_since_surgery: int
    margin_mm: tuple[float, float]
    area_margin_factor: float
    names: dict[str, str]
    notes: ScarNotes


@dataclass
class FlagRules:
    refer: list[str]
    no_plan: list[str]
    text: dict[str, str]


@dataclass
class RecommendFile:
    skin: SkinRules
    hair: HairRules
    dots: DotRules
    sessions: SessionRules
    scars: ScarRules
    flags: FlagRules


@dataclass
class Rules(RecommendFile):
    """recommend.yaml's sections plus the pigment catalogue from pigments.yaml."""

    catalogue: Catalogue


_COUNT_KEYS = {2: "two", 3: "three", 4: "four"}  # session count → Focus field


def load_rules(recommend_path: str | Path | None = None, pigments_path: str | Path | None = None) -> Rules:
    """Parse and check both YAML files (None = the packaged ones); errors name the file and the key."""
    rec_path = Path(recommend_path or CONFIG_DIR / "recommend.yaml")
    pig_path = Path(pigments_path or CONFIG_DIR / "pigments.yaml")
    rec = _build(RecommendFile, _read_yaml(rec_path), "", rec_path)
    catalogue = _build(Catalogue, _read_yaml(pig_path), "", pig_path)
    rules = Rules(**vars(rec), catalogue=catalogue)
    _check(rules, rec_path, pig_path)
    return rules


@functools.lru_cache(maxsize=1)
def _default_rules() -> Rules:
    return load_rules()


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ValueError(f"{path}: file not found; the packaged defaults are in {CONFIG_DIR}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _build(cls: type, raw: Any, where: str, src: Path) -> Any:
    if not isinstance(raw, dict):
        raise ValueError(f"{src}: {where.rstrip('.') or 'the top level'} must be a mapping, got {raw!r}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(str(k) for k in raw if k not in names)
    if unknown:
        raise ValueError(f"{src}: unknown key '{where}{unknown[0]}'; valid keys here: {', '.join(names)}")
    missing = [n for n in names if n not in raw]
    if missing:
        raise ValueError(f"{src}: missing key '{where}{missing[0]}'; copy it from {CONFIG_DIR / src.name}")
    hints = typing.get_type_hints(cls)
    return cls(**{n: _coerce(hints[n], raw[n], where + n, src) for n in names})


def _coerce(hint: Any, value: Any, where: str, src: Path) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where + ".", src)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and isinstance(value, list):
        return [_coerce(args[0], v, f"{where}[{i}]", src) for i, v in enumerate(value)]
    if origin is tuple and isinstance(value, list):
        if len(value) != len(args):
            raise ValueError(f"{src}: {where} needs {len(args)} values, got {value!r}")
        items = enumerate(zip(args, value, strict=True))
        return tuple(_coerce(t, v, f"{where}[{i}]", src) for i, (t, v) in items)
    if origin is dict and isinstance(value, dict):
        return {str(k): _coerce(args[1], v, f"{where}.{k}", src) for k, v in value.items()}
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if origin is None and type(value) is hint:
        return value
    kind = getattr(origin or hint, "__name__", str(hint))
    raise ValueError(f"{src}: {where} must be a {kind}, got {value!r}")


def _check(r: Rules, rec: Path, pig: Path) -> None:
    """Cross-field checks (list lengths are in the types), so a bad edit fails on load, not in a plan."""
    steps, s, gaps, codes = r.catalogue.dilution_steps, r.sessions, r.sessions.intervals_days, set(FLAG_CODES)
    used = {*r.flags.refer, *r.flags.no_plan, *r.flags.text, *s.extra_session_flags}
    checks = [
        (pig, "dilution_steps", steps and steps == sorted(steps) and steps[0] >= 0, "must rise from 0 up"),
        (pig, "pigments", r.catalogue.pigments, "must list at least one shade"),
        (pig, "default_shade", _find_shade(r, r.catalogue.default_shade), "is not in the catalogue"),
        (rec, "skin.fallback_hex", _HEX.match(r.skin.fallback_hex), "must look like #rrggbb"),
        (rec, "skin.fallback_fitzpatrick", 1 <= r.skin.fallback_fitzpatrick <= 6, "must be 1-6"),
        (rec, "sessions.dots_per_hour", min(s.dots_per_hour) > 0, "must be > 0"),
        (rec, "sessions.intervals_days", all(0 < lo <= hi for lo, hi in gaps), "needs 0 < min <= max"),
        (rec, "scars.names", set(SCAR_TYPES) <= set(r.scars.names), f"needs every scar type {SCAR_TYPES}"),
        (rec, "flags.text", codes <= set(r.flags.text), f"needs a sentence for each of {FLAG_CODES}"),
        (rec, "flags", used <= codes, f"uses an unknown code; known: {', '.join(FLAG_CODES)}"),
    ]
    for key in ("default_count", "small_count", "extra_count"):
        checks.append((rec, f"sessions.{key}", getattr(s, key) in _COUNT_KEYS, "must be 2-4 (DESIGN.md)"))
    for i, p in enumerate(r.catalogue.pigments):
        at, hair_ok = f"pigments[{i}]", set(p.suits_hair) <= set(r.hair.extra_dilution)
        checks += [
            (pig, f"{at}.hex", _HEX.match(p.hex), f"must look like #rrggbb, not {p.hex!r}"),
            (pig, f"{at}.suits_fitzpatrick", set(p.suits_fitzpatrick) <= set(range(1, 7)), "must be 1-6"),
            (pig, f"{at}.suits_hair", hair_ok, f"must use the names under hair.extra_dilution in {rec.name}"),
        ]
    for src, key, ok, why in checks:
        if not ok:
            raise ValueError(f"{src}: key {key!r} {why}")
    for key, text in vars(r.scars.notes).items():
        try:
            text.format(name="", margin_min_mm=0, margin_max_mm=0, min_months=0)
        except (KeyError, IndexError) as err:
            raise ValueError(f"{rec}: key 'scars.notes.{key}' uses an unknown field {err}") from None


def _find_shade(rules: Rules, name: str) -> Pigment | None:
    return next((p for p in rules.catalogue.pigments if p.name == name), None)


# ---------------------------------------------------------------- recommendation
def recommend(findings: Findings, prefs: Preferences | None = None, rules: Rules | None = None) -> dict:
    """The assessment's `recommendation` object for one client (see the module docstring)."""
    prefs, rules = prefs or Preferences(), rules or _default_rules()
    if prefs.look not in LOOKS:
        raise ValueError(f"look {prefs.look!r} is unknown; use one of {', '.join(LOOKS)}")
    if prefs.desired_hair is not None and prefs.desired_hair not in rules.hair.extra_dilution:
        names = ", ".join(rules.hair.extra_dilution)
        raise ValueError(f"desired_hair {prefs.desired_hair!r} is unknown; use one of {names} or None")
    notes: list[str] = []  # the top-level rationale, in the order the choices are made
    pigment, low_skin = _pigment(findings, prefs, rules, notes)
    scars = [_scar_verdict(s, rules) for s in findings.scars]
    found = {s["status"] for s in scars} | ({"low_skin"} if low_skin else set())
    derived = [c for c, key in _DERIVED_FLAGS.items() if key in found]
    codes = list(dict.fromkeys([*findings.flags, *derived]))
    shown = [c for c in codes if not (c == "long_hair" and prefs.look == "density")]  # already the advice
    refer = any(c in rules.flags.refer for c in codes)
    out: dict[str, Any] = {"pigment": pigment, **_no_plan(rules)}
    out.update(scars=[{k: s[k] for k in ("type", "eligible", "status", "note")} for s in scars], refer=refer)
    out.update(flags=[rules.flags.text.get(c, c) for c in shown], flag_codes=codes)
    blockers = [c.replace("_", " ") for c in codes if c in rules.flags.no_plan]
    eligible = [s for s in scars if s["eligible"]]
    zones = [z for z in PLAN_ZONES if _fraction(findings, z) >= rules.dots.min_zone_fraction]
    if blockers:
        who = "a clinician must see the client first" if refer else "the findings cannot be trusted"
        notes.append(f"No SMP plan: {who} ({', '.join(blockers)}).")
    elif not zones and not eligible:
        notes.append("No thinning, bald or eligible scar area was found: no SMP is indicated.")
    else:
        extra = any(c in rules.sessions.extra_session_flags for c in codes)
        out.update(_plan(findings, prefs, rules, zones, eligible, extra, notes))
    out["rationale"] = notes
    return out


_DERIVED_FLAGS = {"low_skin_confidence": "low_skin", "raised_scar": "raised", "fresh_scar": "fresh"}


def _no_plan(rules: Rules) -> dict[str, Any]:
    empty = dict.fromkeys(("hair", "thinning", "bald", "scar", "hairline"))
    out: dict[str, Any] = {"dots_per_cm2": empty, "dots_per_cm2_session1": dict(empty), "sessions": []}
    out["touch_up_years"] = list(rules.sessions.touch_up_years)
    return out | dict.fromkeys(("treatment_area_cm2", "dots_estimate", "hours_estimate"))


def _fraction(findings: Findings, zone: str) -> float:
    return float((findings.zones.get(zone) or {}).get("fraction_of_scalp") or 0.0)


def _pigment(findings: Findings, prefs: Preferences, rules: Rules, notes: list[str]) -> tuple[dict, bool]:
    """Shade, dilution and healed swatch; also whether the skin tone was unreliable."""
    skin, sr = findings.skin or {}, rules.skin
    fitz = _fitzpatrick(skin, sr)
    low, fitz = fitz is None, fitz or sr.fallback_fitzpatrick  # unreliable tone: the lightest typical mix
    own = (findings.hair or {}).get("name")
    hair = prefs.desired_hair or own
    extra = _hair_extra(findings, prefs, rules)
    steps = rules.catalogue.dilution_steps
    wanted = sr.base_dilution[fitz - 1] + extra
    ratio = next((s for s in steps if s >= wanted - 1e-9), steps[-1])  # round towards lighter, never darker
    suits = [p for p in rules.catalogue.pigments if fitz in p.suits_fitzpatrick and hair in p.suits_hair]
    shade = suits[0] if suits else _find_shade(rules, rules.catalogue.default_shade)
    assert shade is not None  # _check made sure the default shade exists
    skin_hex = skin.get("hex") if _HEX.match(str(skin.get("hex"))) else sr.fallback_hex
    words = hair.replace("_", " ") if hair else "unmeasured"
    subject = f"{words} hair" if hair else "hair of unmeasured colour"
    if low:  # say so, rather than name a skin type that was never measured
        why = ["the skin tone was not measured reliably (the lightest typical mix)"]
        skin_words = "skin of unmeasured tone"
    else:
        why = ["fair skin heals dots lighter"] * (fitz <= sr.bluish_risk_max_fitzpatrick)
        why += ["dark skin shows little contrast"] * (fitz >= sr.low_contrast_min_fitzpatrick)
        skin_words = f"Fitzpatrick {'I II III IV V VI'.split()[fitz - 1]} skin"
    why += ["light or grey hair reads light" if hair else "the hair colour is unknown"] * (extra >= 1)
    text = f"{shade.label} suits {subject} on {skin_words}"
    text += f", diluted {_ratio_text(ratio)}" + (f" because {' and '.join(why)}." if why else ".")
    if prefs.desired_hair and prefs.desired_hair != own:
        notes.append(f"Matched to the wanted {words} hair, not the client's own ({own or 'not measured'}).")
    bluish = not low and fitz <= sr.bluish_risk_max_fitzpatrick
    if low:
        notes.append("The skin tone was not measured reliably, so the lightest typical dilution was chosen.")
    elif bluish:
        notes.append(_BLUISH)
    return {
        "shade": shade.name,
        "shade_label": shade.label,
        "dilution": f"{_ratio_text(ratio)} (pigment:diluent)",
        "dilution_ratio": ratio,
        "hex": _blend(shade.hex, skin_hex, 1.0 / (1.0 + rules.catalogue.ink_fade_per_part * ratio)),
        "ink_hex": shade.hex,
        "rationale": f"{text} {_BLUISH if bluish else _START_LIGHT}",
    }, low


_BLUISH = "Dark ink on fair skin can heal bluish, so the dilution errs lighter; darken later if needed."
_START_LIGHT = "Start light: a later session can darken, nothing undoes too dark."


def _fitzpatrick(skin: dict, sr: SkinRules) -> int | None:
    """The skin type, or None when the tone is missing or not trusted."""
    confidence = skin.get("confidence")
    if not skin or (confidence is not None and float(confidence) < sr.min_confidence):
        return None
    fitz, ita = skin.get("fitzpatrick"), skin.get("ita_deg")
    if isinstance(fitz, Integral) and 1 <= int(fitz) <= 6:
        return int(fitz)
    return None if ita is None else 1 + sum(float(ita) < t for t in sr.ita_thresholds)


def _hair_extra(findings: Findings, prefs: Preferences, rules: Rules) -> float:
    """Dilution added for the hair colour to match; a greying head reads lighter than its name says."""
    hair = findings.hair or {}
    name = prefs.desired_hair or hair.get("name") or ""
    extra = rules.hair.extra_dilution.get(name, rules.hair.unknown_extra_dilution)
    if prefs.desired_hair is not None:  # the wanted colour replaces the own hair, grey included
        return extra
    return max(extra, float(hair.get("grey_fraction") or 0.0) * rules.hair.grey_fraction_extra)


def _ratio_text(ratio: float) -> str:
    return "undiluted" if ratio == 0 else f"1:{ratio:g}"


def _blend(ink_hex: str, skin_hex: str, ink_weight: float) -> str:
    """Mix in linear light: dots too small to resolve average with the skin around them as light does."""

    def lin(h: str, i: int) -> float:
        c = int(h[i : i + 2], 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    def srgb(v: float) -> int:
        v = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        return round(min(max(v, 0.0), 1.0) * 255)

    mix = [ink_weight * lin(ink_hex, i) + (1 - ink_weight) * lin(skin_hex, i) for i in (1, 3, 5)]
    return "#" + "".join(f"{srgb(v):02x}" for v in mix)


def _scar_verdict(scar: dict, rules: Rules) -> dict:
    sr, kind, months = rules.scars, str(scar.get("type")), scar.get("months_since_surgery")
    young = months is not None and months < sr.min_months_since_surgery
    if kind == "raised":
        status = "raised"
    elif float(scar.get("redness") or 0.0) > sr.max_redness or young:
        status = "fresh"
    else:
        status = "eligible"
    lo, hi = (f"{v:g}" for v in sr.margin_mm)
    template = getattr(sr.notes, status)
    fields = {"name": sr.names.get(kind, kind), "min_months": sr.min_months_since_surgery}
    note = template.format(margin_min_mm=lo, margin_max_mm=hi, **fields)
    area = scar.get("area_cm2")
    return {"type": kind, "eligible": status == "eligible", "status": status, "note": note, "area_cm2": area}


def _plan(
    f: Findings, p: Preferences, r: Rules, zones: list[str], scars: list[dict], extra: bool, notes: list[str]
) -> dict[str, Any]:
    """Dot densities, sessions and estimates for the treatable zones and the eligible scars."""
    s = r.sessions
    dots = _dots(f, p, r, bool(scars), notes)
    area, finished = _area_and_dots(f, r, zones, scars, dots)
    n = _session_count(f, r, zones, area, bool(scars) or extra, notes)
    focus = list(getattr(s.focus, _COUNT_KEYS[n]))
    if scars:
        focus[-1] = f"{s.scar_focus} {focus[-1]}"
    ranges = [[0, 0], *map(list, s.intervals_days)]  # the plan gives the middle of each [min, max] range
    sessions = [
        {
            "number": i + 1,
            "days_after_previous": round(sum(ranges[i]) / 2),
            "days_range": ranges[i],
            "focus": text,
        }
        for i, text in enumerate(focus)
    ]
    first = s.session_dot_fractions[0]
    out: dict[str, Any] = {"dots_per_cm2": dots, "sessions": sessions}
    out["dots_per_cm2_session1"] = {k: None if v is None else round(v * first) for k, v in dots.items()}
    out["treatment_area_cm2"] = None if area is None else round(area, 1)
    if finished is not None:  # dots placed over all sessions, at a fast..slow placement rate
        placed = finished * sum(s.session_dot_fractions[:n])
        slow, fast = sorted(s.dots_per_hour)
        hours = [max(0.5, math.floor(placed / fast * 2) / 2), max(0.5, math.ceil(placed / slow * 2) / 2)]
        out.update(dots_estimate=round(placed), hours_estimate=hours)
        if hours[1] / n > s.max_hours_per_session:
            notes.append(f"Sessions may run past {s.max_hours_per_session:g} h: split them over two days.")
    return out


def _session_count(
    f: Findings, rules: Rules, zones: list[str], area: float | None, more: bool, notes: list[str]
) -> int:
    s = rules.sessions
    if area is not None:
        small = area < s.small_area_cm2
    else:  # no scale: judge by the share of the scalp instead
        small = sum(_fraction(f, z) for z in zones) < s.small_fraction
    if more:
        n, why = s.extra_count, "one more for scar camouflage or skin that heals patchy"
    elif small:
        n, why = s.small_count, "a small, simple area"
    else:
        n, why = s.default_count, "the usual plan"
    notes.append(f"{n} sessions, {why}; start light and darken in later sessions.")
    return n


def _dots(f: Findings, p: Preferences, r: Rules, scar: bool, notes: list[str]) -> dict[str, int | None]:
    """Dots/cm² of the finished result per zone, scaled to the client's own hair density when known."""
    d = r.dots
    full, hairs = d.full_density_per_cm2, (f.density_per_cm2 or {}).get("hair")
    if hairs:
        full *= min(max(hairs / d.natural_hairs_per_cm2, d.hair_scale_range[0]), d.hair_scale_range[1])
        notes.append(
            f"Full density {round(full)} dots/cm², matched to the client's {round(hairs)} hairs/cm²."
        )
    else:
        notes.append(f"Full density {round(full)} dots/cm² (no scale in the photo, so the usual density).")
    if p.look == "shaved":
        thinning = d.thinning_shaved
        notes.append("Shaved look: thinning areas get the full dot field; the hairline stays sparse.")
    else:  # fill only what is missing between the hairs kept long
        rel = (f.density_relative or {}).get("thinning")
        rel = d.assumed_thinning_relative if rel is None else rel
        thinning = min(max(1.0 - rel, d.thinning_density_range[0]), d.thinning_density_range[1])
        notes.append("Density look: dots go between the kept hairs in thinning areas, where hair is missing.")
    dots = {"hair": full * d.hair_zone or None, "thinning": full * thinning, "bald": full * d.bald}
    dots |= {"scar": full * d.scar if scar else None, "hairline": full * d.hairline}
    return {k: None if v is None else round(v) for k, v in dots.items()}


def _area_and_dots(
    f: Findings, rules: Rules, zones: list[str], scars: list[dict], dots: dict
) -> tuple[float | None, float | None]:
    """Treatment area and dots in the finished result; else the analysis' own area at full density."""
    margin = 1.0 + rules.scars.area_margin_factor  # the field extends past each scar's edge
    parts = [((f.zones.get(z) or {}).get("area_cm2"), dots[z]) for z in zones]
    parts += [(None if s["area_cm2"] is None else s["area_cm2"] * margin, dots["scar"]) for s in scars]
    if parts and all(a is not None for a, _ in parts):
        return sum(a for a, _ in parts), sum(a * n for a, n in parts)
    area = f.treatment_area_cm2
    return (None, None) if area is None else (float(area), float(area) * dots["bald"])
