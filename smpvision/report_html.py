"""The assessment as HTML: `summary_html` (what the app shows) and `page_html` (the self-contained report
file, images inline as base64 PNG written from pixel arrays, so no metadata of the upload goes with it).

Styles are one <style> block scoped under `.smp`, with explicit colours so the summary stays readable when
the app runs in a dark theme.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from . import report_content as rc
from .io import image_to_png_bytes
from .report_images import photo_figures

STYLE = """
.smp{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#161616;background:#fff;
  line-height:1.4;font-size:15px}
.smp h2{font-size:19px;margin:18px 0 6px}
.smp h3{font-size:16px;margin:14px 0 4px}
.smp .verdict{padding:10px 14px;border-radius:6px;font-weight:600;font-size:17px}
.smp .ok{background:#e6f4ea;border-left:6px solid #1e8e3e}
.smp .stop{background:#fde7e7;border-left:6px solid #c5221f}
.smp .error{background:#fde7e7;border-left:6px solid #c5221f}
.smp .cautions{background:#fff4e0;border-left:6px solid #e37400;padding:8px 14px 8px 30px;margin:8px 0}
.smp .cautions li{margin:3px 0}
.smp table{border-collapse:collapse;margin:6px 0;width:100%}
.smp th,.smp td{border:1px solid #c9c9c9;padding:4px 8px;text-align:left;vertical-align:top;color:#161616}
.smp th{background:#f1f1f1}
.smp .swatches{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0}
.smp .sw{width:calc(25% - 9px);min-width:110px}
.smp .chip{width:100%;height:56px;border:1px solid #888;border-radius:4px}
.smp .sw b{display:block;margin-top:3px}
.smp .muted{color:#555;font-size:13px}
.smp figure{display:inline-block;margin:6px 10px 6px 0;max-width:48%;vertical-align:top}
.smp figure img{max-width:100%;border:1px solid #ccc}
"""


def summary_html(doc: dict[str, Any], zones: bool = True) -> str:
    """Verdict, cautions, colours and pigment, session plan, zone table, scars and the reasons, in the
    order a technician needs them: what stops the work first, then what to do."""
    return verdict_html(doc) + details_html(doc, zones)


def verdict_html(doc: dict[str, Any]) -> str:
    """The one-line verdict and, below it, every flag and photo problem in plain words."""
    level, sentence = rc.verdict(doc)
    parts = [f'<div class="verdict {level}">{_e(sentence)}</div>']
    cautions = rc.cautions(doc)
    if cautions:
        parts.append('<ul class="cautions">' + "".join(f"<li>{_e(c)}</li>" for c in cautions) + "</ul>")
    return _scoped("".join(parts))


def notice_html(text: str, level: str = "error") -> str:
    """A verdict-style box with one message (nothing to assess, an option out of range, a failure)."""
    return _scoped(f'<div class="verdict {level}">{_e(text)}</div>')


def details_html(doc: dict[str, Any], zones: bool = True) -> str:
    """Colours and pigment, session plan, zones (unless `zones=False`: the app has its own table), scars
    and the reasons; empty for a document that was not assessed."""
    if not rc.is_ok(doc):
        return ""
    shade, why = rc.pigment_text(doc)
    parts = ["<h2>Colours and pigment</h2>" + _swatches(rc.swatches(doc))]
    parts.append(f"<p><b>Recommended: {_e(shade)}.</b> {_e(why)}</p>")
    rows = rc.session_rows(doc)
    if rows:
        parts.append("<h2>Session plan</h2>" + _table(rc.SESSION_HEADERS, rows))
        parts.append(_paragraphs(rc.plan_facts(doc)))
    if zones:
        parts.append("<h2>Zones</h2>" + _table(rc.ZONE_HEADERS, rc.zone_rows(doc)))
    scars = rc.scar_rows(doc)
    if scars:
        parts.append("<h2>Scars</h2>" + _table(rc.SCAR_HEADERS, scars))
    parts.append("<h3>Why</h3><ul>" + "".join(f"<li>{_e(r)}</li>" for r in rc.reasons(doc)) + "</ul>")
    return _scoped("".join(parts))


def _scoped(inner: str) -> str:
    return f'<div class="smp"><style>{STYLE}</style>{inner}</div>'


def page_html(assessment: Any) -> str:
    """A complete, self-contained HTML report for one `smpvision.assess.Assessment`."""
    doc = assessment.to_dict()
    body = [f"<h1>Scalp micropigmentation assessment</h1><p class='muted'>{_e(rc.byline(assessment))}</p>"]
    body.append(summary_html(doc))
    body.append("<div class='smp'><h2>Photos</h2>")
    for photo in assessment.photos:
        body.append(f"<h3>{_e(rc.photo_caption(photo.document))}</h3>")
        if not rc.is_ok(photo.document):
            body.append(f"<p class='verdict error'>{_e(rc.verdict(photo.document)[1])}</p>")
        for title, image in photo_figures(photo, max_side=1024):
            body.append(f"<figure><img alt='{_e(title)}' src='{_png_uri(image)}'><figcaption>{_e(title)}"
                        "</figcaption></figure>")  # fmt: skip
    body.append(f"<p class='muted'>{_e(rc.DISCLAIMER)}</p></div>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>SMP assessment {_e(doc.get('file', ''))}</title></head>"
        "<body style='max-width:1000px;margin:24px auto;padding:0 16px' class='smp'>"
        f"{''.join(body)}</body></html>"
    )


def _swatches(items: Sequence[tuple[str, str | None, str]]) -> str:
    cells = []
    for title, hex_colour, caption in items:
        colour = hex_colour if hex_colour else "#dddddd"
        cells.append(f"<div class='sw'><div class='chip' style='background:{_e(colour)}'></div>"
                     f"<b>{_e(title)}</b><span class='muted'>{_e(caption)}</span></div>")  # fmt: skip
    return "<div class='swatches'>" + "".join(cells) + "</div>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _paragraphs(lines: Sequence[str]) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in lines)


def _png_uri(image: Any) -> str:
    return "data:image/png;base64," + base64.b64encode(image_to_png_bytes(image)).decode("ascii")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
