"""Reports and pictures of an assessment, shared by the app and the batch CLI.

    overlay_with_legend(image, zones, document)   photo + zone colours + a legend with each zone's share
    density_heatmap(image, density)               hair density as colour over the photo, with a colour bar
    report_html(assessment) / report_pdf(...)     the client-file report, self-contained HTML or PDF

Runtime only (numpy, Pillow, OpenCV). Every image is drawn from pixel arrays and every PNG is written by
`smpvision.io.image_to_png_bytes`, so no EXIF or GPS data of the source photo reaches an output. Documents
of status "error" render as a message saying what was wrong.
"""

from __future__ import annotations

from typing import Any

from .report_html import page_html, summary_html
from .report_images import density_heatmap, overlay_with_legend, photo_figures, swatch
from .report_pdf import render_pdf

__all__ = [
    "density_heatmap",
    "overlay_with_legend",
    "photo_figures",
    "report_html",
    "report_pdf",
    "summary_html",
    "swatch",
]


def report_html(assessment: Any) -> str:
    """Self-contained HTML (images inline as base64 PNG) for one `smpvision.assess.Assessment`."""
    return page_html(assessment)


def report_pdf(assessment: Any) -> bytes:
    """A4 PDF for the client file for one `smpvision.assess.Assessment`."""
    return render_pdf(assessment)
