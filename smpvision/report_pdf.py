"""The assessment as a PDF for the client file: A4 pages drawn with Pillow and saved as PDF.

No PDF library is needed (Pillow writes the pages as images), so the text is not selectable; the JSON
next to it carries the numbers for software. Pages are drawn from pixel arrays, so nothing of the
uploaded photo's metadata (EXIF, GPS) reaches the file, and Pillow is given no document metadata either.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from . import report_content as rc
from .report_images import INK, MUTED, font, hex_rgb, photo_figures, wrap

DPI = 150
PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
MARGIN = 90
BODY, SMALL, H2, H1 = 22, 18, 30, 40
_RED = ((253, 231, 231), (197, 34, 31))  # (fill, edge) of a box
_LEVEL_COLOURS = {"ok": ((230, 244, 234), (30, 142, 62)), "stop": _RED, "error": _RED,
                  "caution": ((255, 244, 224), (227, 116, 0))}  # fmt: skip


class _Pages:
    """A cursor over A4 pages: each block asks for its height and starts a new page when it does not fit."""

    def __init__(self) -> None:
        self.pages: list[Image.Image] = []
        self.width = PAGE_W - 2 * MARGIN
        self._new_page()

    def _new_page(self) -> None:
        self.pages.append(Image.new("RGB", (PAGE_W, PAGE_H), "white"))
        self.draw = ImageDraw.Draw(self.pages[-1])
        self.y = MARGIN

    def room(self, height: float) -> None:
        if self.y + height > PAGE_H - MARGIN and self.y > MARGIN:
            self._new_page()

    def text(self, text: str, size: int = BODY, bold: bool = False, colour=INK, indent: int = 0) -> None:
        fnt, line_h = font(size, bold), round(size * 1.35)
        for line in wrap(text, fnt, self.width - indent):
            self.room(line_h)
            self.draw.text((MARGIN + indent, self.y), line, font=fnt, fill=colour)
            self.y += line_h
        self.y += size // 3

    def heading(self, text: str, size: int = H2) -> None:
        self.room(size * 4)  # never a heading alone at the foot of a page
        self.y += size // 2
        self.text(text, size, bold=True)

    def box(self, lines: Sequence[str], level: str, bold: bool = False) -> None:
        fill, edge = _LEVEL_COLOURS[level]
        fnt, line_h, pad = font(BODY, bold), round(BODY * 1.35), 14
        wrapped = [w for line in lines for w in _bullet(line, len(lines) > 1, fnt, self.width - 3 * pad)]
        height = len(wrapped) * line_h + 2 * pad
        self.room(height)
        self.draw.rectangle([MARGIN, self.y, MARGIN + self.width, self.y + height], fill=fill)
        self.draw.rectangle([MARGIN, self.y, MARGIN + 8, self.y + height], fill=edge)
        for i, line in enumerate(wrapped):
            self.draw.text((MARGIN + 2 * pad, self.y + pad + i * line_h), line, font=fnt, fill=INK)
        self.y += height + 12

    def swatches(self, items: Sequence[tuple[str, str | None, str]]) -> None:
        cell = self.width // max(1, len(items))
        fnt, bold = font(SMALL), font(BODY, True)
        captions = [wrap(cap, fnt, cell - 20) for _, _, cap in items]
        height = 90 + BODY * 2 + max((len(c) for c in captions), default=0) * round(SMALL * 1.3)
        self.room(height)
        for i, ((title, hex_colour, _), lines) in enumerate(zip(items, captions, strict=True)):
            x = MARGIN + i * cell
            self.draw.rectangle(
                [x, self.y, x + cell - 20, self.y + 80], fill=hex_rgb(hex_colour), outline=MUTED
            )
            self.draw.text((x, self.y + 88), title, font=bold, fill=INK)
            for j, line in enumerate(lines):
                self.draw.text((x, self.y + 90 + BODY * 1.4 + j * SMALL * 1.3), line, font=fnt, fill=MUTED)
        self.y += height + 10

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], size: int = SMALL) -> None:
        fnt, bold, pad = font(size), font(size, True), 6
        line_h = round(size * 1.3)
        # A column is never narrower than its longest header word (wrap cannot break a word).
        natural = [
            max(max(bold.getlength(w) for w in h.split()) + 2 * pad, *(fnt.getlength(r[i]) for r in rows), 40)
            for i, h in enumerate(headers)
        ]
        capped = [min(n, self.width * 0.5) for n in natural]
        widths = [c * self.width / sum(capped) for c in capped]
        for r, row in enumerate([headers, *rows]):
            cells = [wrap(c, bold if r == 0 else fnt, w - 2 * pad) for c, w in zip(row, widths, strict=True)]
            height = max(len(c) for c in cells) * line_h + 2 * pad
            self.room(height)
            x = MARGIN
            for lines, w in zip(cells, widths, strict=True):
                fill = (241, 241, 241) if r == 0 else "white"
                self.draw.rectangle([x, self.y, x + w, self.y + height], fill=fill, outline=(190, 190, 190))
                for j, line in enumerate(lines):
                    self.draw.text((x + pad, self.y + pad + j * line_h), line, font=bold if r == 0 else fnt,
                                   fill=INK)  # fmt: skip
                x += w
            self.y += height
        self.y += 12

    def images(self, title: str, figures: Sequence[tuple[str, np.ndarray]], per_row: int = 2) -> None:
        """A bold title and the figures below it, two to a row; the title stays with the first row."""
        gap, title_h = 20, round(BODY * 1.35) + BODY // 3
        cell = (self.width - gap * (per_row - 1)) // per_row
        for start in range(0, len(figures), per_row):
            row = figures[start : start + per_row]
            fitted = [_fit(img, cell, PAGE_H // 2 - MARGIN) for _, img in row]
            height = max(im.height for im in fitted) + SMALL * 2
            self.room(height + (title_h if start == 0 else 0))
            if start == 0:
                self.text(title, BODY, bold=True)
            for i, ((title, _), im) in enumerate(zip(row, fitted, strict=True)):
                x = MARGIN + i * (cell + gap)
                self.pages[-1].paste(im, (x, round(self.y)))
                self.draw.text((x, self.y + im.height + 4), title, font=font(SMALL), fill=MUTED)
            self.y += height + 10

    def finish(self) -> bytes:
        n = len(self.pages)
        for i, page in enumerate(self.pages):
            ImageDraw.Draw(page).text((PAGE_W - MARGIN, PAGE_H - MARGIN // 2), f"Page {i + 1} of {n}",
                                      font=font(SMALL), fill=MUTED, anchor="rs")  # fmt: skip
        buf = io.BytesIO()
        # JPEG-in-PDF at high quality keeps small text crisp; resolution makes the page A4, not 8x11 ft.
        self.pages[0].save(
            buf, "PDF", save_all=True, append_images=self.pages[1:], resolution=DPI, quality=90
        )
        return buf.getvalue()


def render_pdf(assessment: Any) -> bytes:
    doc = assessment.to_dict()
    p = _Pages()
    p.text("Scalp micropigmentation assessment", H1, bold=True)
    p.text(rc.byline(assessment), SMALL, colour=MUTED)
    level, sentence = rc.verdict(doc)
    p.box([sentence], level, bold=True)
    cautions = rc.cautions(doc)
    if cautions:
        p.box(cautions, "caution")
    if rc.is_ok(doc):
        p.heading("Colours and pigment")
        p.swatches(rc.swatches(doc))
        shade, why = rc.pigment_text(doc)
        p.text(f"Recommended: {shade}. {why}")
        if rc.session_rows(doc):
            p.heading("Session plan")
            p.table(rc.SESSION_HEADERS, rc.session_rows(doc))
            for fact in rc.plan_facts(doc):
                p.text(fact)
        p.heading("Zones")
        p.table(rc.ZONE_HEADERS, rc.zone_rows(doc))
        if rc.scar_rows(doc):
            p.heading("Scars")
            p.table(rc.SCAR_HEADERS, rc.scar_rows(doc))
        p.heading("Why", BODY + 4)
        for reason in rc.reasons(doc):
            p.text(f"• {reason}", indent=10)
    p.heading("Photos")
    for photo in assessment.photos:
        figures = photo_figures(photo, max_side=1024)
        if figures:
            p.images(rc.photo_caption(photo.document), figures)
        else:
            p.text(rc.photo_caption(photo.document), BODY, bold=True)
        if not rc.is_ok(photo.document):
            p.box([rc.verdict(photo.document)[1]], "error")
    p.text(rc.DISCLAIMER, SMALL, colour=MUTED)
    return p.finish()


def _bullet(line: str, bulleted: bool, fnt: Any, width: float) -> list[str]:
    if not bulleted:
        return wrap(line, fnt, width)
    lines = wrap(line, fnt, width - 24)
    return [("• " if i == 0 else "   ") + seg for i, seg in enumerate(lines)]


def _fit(image: np.ndarray, max_w: int, max_h: int) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(image))
    f = min(max_w / im.width, max_h / im.height, 1.0)
    return im.resize((max(1, round(im.width * f)), max(1, round(im.height * f))), Image.Resampling.LANCZOS)
