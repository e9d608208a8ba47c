"""What a technician reads, in plain words, from one assessment document (one photo or a consultation).

The app, the HTML report and the PDF report all lay out these same strings and rows, so the three never
disagree. Every function accepts `error` documents and documents with parts missing (no skin measured, no
plan) and says so instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from . import __version__
from .report_images import ZONE_LABELS

Doc = Mapping[str, Any]
DASH = "–"
ZONE_HEADERS: list[str] = [
    "Zone",
    "Share of scalp",
    "Area (cm²)",
    "Hair density (% of full hair)",
    "Hairs per cm²",
    "Target dots/cm²",
    "Session 1 dots/cm²",
]
SESSION_HEADERS: list[str] = ["Session", "When", "What to do"]
SCAR_HEADERS: list[str] = ["Scar", "Share of scalp", "Treat now?", "Note"]
_ROMAN = ("I", "II", "III", "IV", "V", "VI")
_SCAR_WORDS = {"fut_strip": "FUT strip", "fue_dots": "FUE dots", "irregular": "irregular", "raised": "raised"}
_VIEW_WORDS = {"overview": "whole-head photo", "closeup": "close-up"}
_SCALE_WORDS = {"given": "scale entered by hand", "marker": "scale from the printed card",
                "estimated": "scale estimated from hair width", None: "no scale (areas unknown)"}  # fmt: skip


DISCLAIMER = (
    "Made by smpvision from photos: an aid to the technician's own judgement, not a medical diagnosis. "
    "Confirm the shade with a test patch."
)


def byline(assessment: Any) -> str:
    """Date, number of photos and the software version, for the top of a report."""
    n = len(assessment.photos)
    return f"{date.today().isoformat()} · {n} photo{'s' * (n != 1)} · smpvision {__version__}"


def is_ok(doc: Doc) -> bool:
    return doc.get("status") == "ok"


def verdict(doc: Doc) -> tuple[str, str]:
    """(level, one sentence): level is "ok", "stop" (refer / no plan) or "error" (nothing assessed)."""
    if not is_ok(doc):
        return "error", f"Not assessed: {doc.get('error') or 'unknown problem'}"
    rec = doc.get("recommendation") or {}
    sessions = rec.get("sessions") or []
    if rec.get("refer"):
        tail = " The plan below is provisional." if sessions else ""
        return "stop", f"Refer the client to a doctor before any SMP.{tail}"
    if not sessions:
        stop = next((n for n in rec.get("rationale") or [] if n.startswith("No ")), "No SMP plan.")
        return "stop", stop
    pig = rec.get("pigment") or {}
    return (
        "ok",
        f"SMP plan: {len(sessions)} sessions, {pig.get('shade_label')} diluted {pig.get('dilution')}.",
    )


def cautions(doc: Doc) -> list[str]:
    """Flags in plain words, then photo problems: everything the technician must not miss."""
    rec = doc.get("recommendation") or {}
    lines = list(rec.get("flags") or [])
    lines += [_sentence(w) for w in (doc.get("quality") or {}).get("warnings") or []]
    lines += [
        f"{_sentence(p.get('error') or p.get('file', 'a photo'))} (this photo was left out)"
        for p in doc.get("photos") or []
        if not is_ok(p)
    ]
    return lines


def zone_rows(doc: Doc) -> list[list[str]]:
    """One row per zone (plus the hairline's dot density): share, area, density, dot targets."""
    if not is_ok(doc):
        return []
    zones, density = doc.get("zones") or {}, doc.get("density") or {}
    rel, per_cm2 = density.get("relative") or {}, density.get("hairs_per_cm2") or {}
    rec = doc.get("recommendation") or {}
    dots, first = rec.get("dots_per_cm2") or {}, rec.get("dots_per_cm2_session1") or {}
    planned = bool(rec.get("sessions"))

    def target(v: float | None) -> str:  # without a plan nothing is dotted, so no target either
        return DASH if not planned else "not dotted" if v is None else f"{v:.0f}"

    rows = []
    for name, label in ZONE_LABELS.items():
        z = zones.get(name) or {}
        rows.append([
            label,
            _pct(z.get("fraction_of_scalp")),
            _num(z.get("area_cm2"), 1),
            _pct(rel.get(name)),
            _num(per_cm2.get(name), 0),
            target(dots.get(name)),
            target(first.get(name)),
        ])  # fmt: skip
    rows.append(["Hairline (front edge)", DASH, DASH, DASH, DASH, target(dots.get("hairline")),
                 target(first.get("hairline"))])  # fmt: skip
    return rows


def swatches(doc: Doc) -> list[tuple[str, str | None, str]]:
    """(title, hex or None, caption) for skin, hair, the pigment as it heals and the undiluted ink."""
    if not is_ok(doc):
        return []
    skin, hair = doc.get("skin") or {}, doc.get("hair") or {}
    pig = (doc.get("recommendation") or {}).get("pigment") or {}
    fitz = skin.get("fitzpatrick")
    skin_cap = (
        f"Fitzpatrick {_ROMAN[fitz - 1]}, ITA {skin.get('ita_deg', 0):.0f}°"
        if isinstance(fitz, int) and 1 <= fitz <= 6
        else "not measured"
    )
    if "low_skin_confidence" in ((doc.get("recommendation") or {}).get("flag_codes") or []):
        skin_cap = f"not reliable (read as {skin_cap})"
    hair_cap = "not measured"
    if hair:
        hair_cap = hair.get("name", "?").replace("_", " ")
        if hair.get("grey_fraction"):
            hair_cap += f", {hair['grey_fraction'] * 100:.0f} % grey"
    return [
        ("Skin", skin.get("hex"), skin_cap),
        ("Hair", hair.get("hex"), hair_cap),
        ("Healed pigment", pig.get("hex"), f"{pig.get('shade_label', DASH)}, {pig.get('dilution', DASH)}"),
        ("Ink, undiluted", pig.get("ink_hex"), pig.get("shade_label", DASH)),
    ]


def pigment_text(doc: Doc) -> tuple[str, str]:
    """(shade and dilution, why)."""
    pig = (doc.get("recommendation") or {}).get("pigment") or {}
    if not pig:
        return DASH, ""
    return f"{pig.get('shade_label')} diluted {pig.get('dilution')}", str(pig.get("rationale") or "")


def session_rows(doc: Doc) -> list[list[str]]:
    sessions = (doc.get("recommendation") or {}).get("sessions") or []
    rows = []
    for s in sessions:
        n, lo_hi = s.get("number"), s.get("days_range") or [0, 0]
        if n == 1:
            when = "First visit"
        else:
            when = f"{lo_hi[0]}–{lo_hi[1]} days after session {n - 1}"
        rows.append([f"{n}", when, str(s.get("focus", ""))])
    return rows


def plan_facts(doc: Doc) -> list[str]:
    """Area, dots and hours when known, and touch-ups."""
    rec = doc.get("recommendation") or {}
    facts = []
    if rec.get("treatment_area_cm2") is not None:
        facts.append(f"Area to treat: about {rec['treatment_area_cm2']:.0f} cm².")
    if rec.get("dots_estimate") is not None:
        facts.append(f"About {rec['dots_estimate']:,} dots over all sessions.")
    hours = rec.get("hours_estimate")
    if hours:
        facts.append(f"About {hours[0]:g}–{hours[1]:g} hours of work in total.")
    if rec.get("sessions") and rec.get("touch_up_years"):
        lo, hi = rec["touch_up_years"]
        facts.append(f"Touch-ups every {lo}–{hi} years as the pigment fades.")
    return facts


def scar_rows(doc: Doc) -> list[list[str]]:
    rows = []
    for s in doc.get("scars") or []:
        status = {"eligible": "yes", "fresh": "not yet", "raised": "no, refer"}.get(s.get("status"), DASH)
        kind = _SCAR_WORDS.get(s.get("type"), str(s.get("type")))
        where = f" ({s['file']})" if s.get("file") else ""  # consultations say which photo shows it
        rows.append([kind + where, _pct(s.get("fraction_of_scalp")), status, str(s.get("note") or "")])
    return rows


def reasons(doc: Doc) -> list[str]:
    return list((doc.get("recommendation") or {}).get("rationale") or [])


def photo_caption(doc: Doc) -> str:
    """E.g. `crown.jpg: crown, whole-head photo, scale from the printed card`."""
    if not is_ok(doc):
        return f"{doc.get('file', 'photo')}: not assessed"
    view = doc.get("view") or {}
    kind = _VIEW_WORDS.get(view.get("kind"), view.get("kind"))
    parts = [view.get("tag") if view.get("tag") != "closeup" else None, kind]
    if view.get("source") == "detected":
        parts[-1] = f"{parts[-1]} (detected)"
    parts.append(_SCALE_WORDS.get((doc.get("calibration") or {}).get("source"), "scale unknown"))
    return f"{doc.get('file', 'photo')}: " + ", ".join(p for p in parts if p)


def _sentence(text: str) -> str:
    """Capitalised and full-stopped, unless it starts with a file name ("crown.jpg: ...")."""
    text = str(text).strip()
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if not (first.endswith(":") and "." in first):
        text = text[:1].upper() + text[1:]
    return text.rstrip(".") + "."


def _pct(v: float | None) -> str:
    if v is None:
        return DASH
    return "<1 %" if 0 < v < 0.005 else f"{v * 100:.0f} %"  # a small scar is not "0 %"


def _num(v: float | None, digits: int) -> str:
    return DASH if v is None else f"{v:.{digits}f}"
