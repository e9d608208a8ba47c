"""What the app does, without Gradio: photos in slots → an assessment → what each result panel shows.

Kept apart from `smpvision.app_ui` so that it is plain Python (testable, no web server) and so the UI
module is only layout. Nothing here raises at the technician: every problem becomes a plain-words message
in the results, and unexpected errors are logged for the operator with the traceback the UI never shows.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .assess import Assessment, AssessOptions, assess, error_document
from .recommend import LOOKS, Preferences, Rules, load_rules
from .report import photo_figures, report_pdf
from .report_content import ZONE_HEADERS, zone_rows
from .report_html import details_html, notice_html, verdict_html
from .segmenter import Segmenter, SegmenterOptions

log = logging.getLogger("smpvision.app")

# (tag, label) of each upload slot: the slot a photo is dropped in is its view tag.
VIEW_SLOTS: tuple[tuple[str, str], ...] = (
    ("front", "Front (hairline)"),
    ("top", "Top"),
    ("crown", "Crown"),
    ("back", "Back / donor area"),
    ("side", "Side"),
    ("closeup", "Close-ups (scar, hair density)"),
)
MAX_PHOTOS = 8  # per consultation: enough for every view plus close-ups, and bounds memory per request
MAX_FILE_MB = 25  # a 50 MP phone JPEG or HEIC is under 20 MB
DISPLAY_SIDE = 1024  # overlays sent to the browser and drawn into reports
Progress = Callable[[float, str], None]
UNEXPECTED = (
    "Something went wrong while assessing these photos. Try again; if it happens again, save the photos "
    "as JPEG, retry, and tell your administrator (the details are in the server log)."
)


@dataclass
class Choices:
    """The technician's options; blanks mean "measure it" (scale) or "the client's own" (hair colour)."""

    mm_per_px: float | None = None
    look: str = "shaved"
    desired_hair: str | None = None


@dataclass
class Results:
    """Everything the result panels show for one run."""

    verdict_html: str  # the verdict and the cautions, or the one message when nothing could be assessed
    details_html: str = ""  # colours and pigment, plan, scars, reasons
    zone_table: list[list[str]] = field(default_factory=list)
    gallery: list[tuple[np.ndarray, str]] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None
    notice: str | None = None  # a short toast for photos that were left out


class Engine:
    """One model session and one rule set shared by all requests (ONNX Runtime sessions are thread-safe),
    plus the folder the report files are written to before Gradio copies them into its own cache."""

    def __init__(self, workers: int = 2, model_path: str | None = None) -> None:
        # Each concurrent request gets an equal share of the cores instead of all of them fighting.
        threads = max(1, (os.cpu_count() or 2) // max(1, workers))
        self.segmenter = Segmenter.from_path(model_path, SegmenterOptions(threads=threads))
        self.rules: Rules = load_rules()
        self.hair_names: list[str] = list(self.rules.hair.extra_dilution)
        self.files = ReportFolder()

    def close(self) -> None:
        self.files.remove()

    def assess(
        self, photos: Sequence[tuple[str, str | None]], choices: Choices, progress: Progress
    ) -> Assessment:
        """Assess the photos of one client, reporting progress per photo."""
        options = AssessOptions(
            mm_per_px=choices.mm_per_px,
            tags=[tag for _, tag in photos],
            preferences=Preferences(look=choices.look, desired_hair=choices.desired_hair),
        )  # the engine's default max_side caps the pixels analysed, and so the memory per photo

        def on_photo(i: int, n: int, name: str) -> None:
            progress(i / (n + 1), f"Photo {i + 1} of {n}: {name}")

        paths = [path for path, _ in photos]
        names = [Path(path).name for path in paths]
        return assess(paths, options, self.segmenter, self.rules, names, on_photo)

    def run(self, slots: dict[str, Sequence[str] | None], choices: Choices, progress: Progress) -> Results:
        """The whole "Assess" button: check the input, assess, draw every panel, write the downloads."""
        photos = [(str(p), tag) for tag, paths in slots.items() for p in paths or []]
        problem = check_request(photos, choices, self.hair_names)
        if problem:
            return Results(notice_html(problem))
        try:
            assessment = self.assess(photos, choices, progress)
            progress(len(photos) / (len(photos) + 1), "Drawing the overlays and the report")
            return self.present(assessment)
        except Exception:  # never a traceback in front of the technician; the operator gets it in the log
            log.exception("assessment failed for %d photo(s)", len(photos))
            return Results(notice_html(UNEXPECTED))

    def present(self, assessment: Assessment) -> Results:
        doc = assessment.to_dict()
        gallery = [(img, title) for p in assessment.photos for title, img in photo_figures(p, DISPLAY_SIDE)]
        failed = [p.document.get("error") for p in assessment.photos if p.document.get("status") != "ok"]
        notice = None
        if failed and len(failed) < len(assessment.photos):
            notice = f"{len(failed)} photo(s) left out: " + " | ".join(str(f) for f in failed)
        return Results(
            verdict_html=verdict_html(doc),
            details_html=details_html(doc, zones=False),
            zone_table=zone_rows(doc),
            gallery=gallery,
            downloads=self.files.write(assessment, doc),
            document=doc,
            notice=notice,
        )

    def assess_one(self, path: str | None, tag: str | None, choices: Choices) -> dict[str, Any]:
        """The `/assess` API: one photo in, its assessment JSON out; problems are an `error` document."""
        if not path:
            return error_document("photo", "no photo was sent; send one image file (JPEG, PNG, HEIC)")
        if tag is not None and tag not in {t for t, _ in VIEW_SLOTS}:
            return error_document(Path(path).name, f"view {tag!r} is unknown; use one of {_tags()}")
        problem = check_request([(path, tag)], choices, self.hair_names)
        if problem:
            return error_document(Path(path).name, problem)
        return self.assess([(path, tag)], choices, lambda *_: None).to_dict()


def check_request(
    photos: Sequence[tuple[str, str | None]], choices: Choices, hair_names: Sequence[str]
) -> str | None:
    """A plain sentence saying what to change, or None when the request can run."""
    if not photos:
        return "Add at least one photo: drop it in the box of the view it shows (front, top, crown, ...)."
    if len(photos) > MAX_PHOTOS:
        return (
            f"{len(photos)} photos is more than {MAX_PHOTOS} at a time; keep the clearest photo of each view."
        )
    if choices.mm_per_px is not None and not 0.001 <= choices.mm_per_px <= 5:
        return (
            f"A scale of {choices.mm_per_px:g} mm per pixel is not plausible (phone photos: about "
            "0.05-0.5); leave it empty to use the printed card or no scale."
        )
    if choices.look not in LOOKS:
        return f"Unknown look {choices.look!r}; choose one of {', '.join(LOOKS)}."
    if choices.desired_hair is not None and choices.desired_hair not in hair_names:
        return f"Unknown hair colour {choices.desired_hair!r}; choose one of {', '.join(hair_names)}."
    return None


def _tags() -> str:
    return ", ".join(t for t, _ in VIEW_SLOTS)


class ReportFolder:
    """Report files wait here until Gradio has copied them into its cache; anything older than `keep_s`
    is removed on the next write, and the whole folder when the app stops (patients' data). The folder
    is made on the first write, so an app that never wrote a report leaves nothing behind."""

    def __init__(self, keep_s: float = 600.0) -> None:
        self.keep_s = keep_s
        self._root: Path | None = None
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="smpvision-app-"))
            return self._root

    def write(self, assessment: Assessment, doc: dict[str, Any]) -> list[str]:
        self._sweep()
        folder = Path(tempfile.mkdtemp(dir=self.root))
        stamp = time.strftime("%Y-%m-%d_%H%M%S")
        pdf = folder / f"smp-assessment_{stamp}.pdf"
        pdf.write_bytes(report_pdf(assessment))
        js = folder / f"smp-assessment_{stamp}.json"
        js.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        return [str(pdf), str(js)]

    def _sweep(self) -> None:
        cutoff = time.time() - self.keep_s
        for sub in self.root.iterdir():
            if sub.stat().st_mtime < cutoff:
                shutil.rmtree(sub, ignore_errors=True)

    def remove(self) -> None:
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None


__all__ = ["MAX_FILE_MB", "MAX_PHOTOS", "VIEW_SLOTS", "ZONE_HEADERS", "Choices", "Engine", "Results"]
