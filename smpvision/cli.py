"""`smpvision` console script: one argparse sub-command per verb, each a thin wrapper over the library.

A verb is a ``_register_<verb>(subparsers)`` function that adds its parser and sets ``run`` to a
``(args, parser) -> int`` function and ``verb_parser`` to its own parser (for ``parser.error``); add new
verbs (info, score, train, ...) to ``_VERBS``. Heavy imports
(the renderer, onnxruntime, later torch) happen inside the verb so that ``smpvision --help`` stays instant
and a missing optional extra only breaks the verb that needs it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from smpvision import __version__, cli_batch, cli_model
from smpvision.annotations import AnnotationError
from smpvision.contracts import VIEW_KINDS, ZONE_CLASSES

if TYPE_CHECKING:
    import numpy as np

PROG = "smpvision"
SHEET_MAX_SAMPLES = 32  # beyond this a contact sheet is too large to look at; it shows the first ones
SHEET_TILE = 192


class Progress:
    """A single self-overwriting status line on a terminal; silent when output is a pipe or a log file."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.label = total, label
        self.stream = stream if stream is not None else sys.stderr
        # Carriage-return animations turn log files into noise, so only draw on an interactive terminal.
        self.enabled = enabled and _isatty(self.stream)
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self._last_draw < 0.1:  # redraw at most 10x per second
            return
        self._last_draw = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else float("inf")
        eta_text = f"{eta:.0f}s" if eta != float("inf") else "?"
        self.stream.write(f"\r{self.label} {done}/{self.total}  {note}{rate:.1f}/s  ETA {eta_text}   ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------------------- synth


def _register_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="render synthetic scalp photos with exact labels into an annotated-photo folder",
        description=(
            "Render N procedural scalp photos and write them as an annotated-photo folder: "
            "DIR/images/NAME.png, DIR/zones/NAME.png (class ids 0 background, 1 hair, 2 thinning, 3 bald, "
            "4 scar) and DIR/labels/NAME.json (hair points, scale, view, skin and hair colour, scars, "
            "pattern). Sample i is rendered from seed (SEED, i) and named synth_SEED_iiiii, so the same "
            "command always writes byte-identical files. Existing files of the same name are overwritten."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--n", type=int, default=16, help="number of samples to render (>= 1)")
    p.add_argument("--size", type=int, default=384, help="image side in pixels (64..4096)")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (>= 0); sample i uses (SEED, i)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument(
        "--kind",
        choices=VIEW_KINDS,
        default=None,
        help="render only this view kind; by default overviews and close-ups are mixed",
    )
    p.add_argument(
        "--closeup-fraction",
        type=float,
        default=0.3,
        help="share of close-ups when --kind is not given (0..1)",
    )
    p.add_argument(
        "--sheet",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"write DIR/contact_sheet.png (photo and zone overlay of the first {SHEET_MAX_SAMPLES} samples)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress line and no summary")
    p.set_defaults(run=_run_synth, verb_parser=p)


def _run_synth(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    # Validate before importing the renderer so usage errors are instant and independent of it.
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}")
    if not 64 <= args.size <= 4096:
        parser.error(f"--size must be between 64 and 4096 pixels, got {args.size}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0 (numpy seeds are non-negative), got {args.seed}")
    if not 0.0 <= args.closeup_fraction <= 1.0:
        parser.error(f"--closeup-fraction must be between 0 and 1, got {args.closeup_fraction}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a folder; choose another path")

    import numpy as np

    from smpvision import synth
    from smpvision.annotations import write_sample
    from smpvision.contact_sheet import contact_sheet, save_png, zone_overlay

    render_sample = getattr(synth, "render_sample", None)
    if render_sample is None:
        print(f"{PROG}: error: this install has no renderer (smpvision.synth.render_sample)", file=sys.stderr)
        return 1

    out.mkdir(parents=True, exist_ok=True)
    pixel_counts = np.zeros(256, dtype=np.int64)
    kinds: dict[str, int] = {}
    tiles, captions = [], []
    progress = Progress(args.n, "synth", enabled=not args.quiet)
    for i in range(args.n):
        s = render_sample(
            seed=(args.seed, i), size=args.size, kind=args.kind, closeup_fraction=args.closeup_fraction
        )
        name = f"synth_{args.seed}_{i:05d}"
        write_sample(out, name, s.image, s.zones, s.label)
        pixel_counts += np.bincount(s.zones.ravel(), minlength=256)
        view = s.label.get("view") or {}
        kinds[view.get("kind", "?")] = kinds.get(view.get("kind", "?"), 0) + 1
        if args.sheet and i < SHEET_MAX_SAMPLES:
            # Keep only thumbnails so a large run does not hold every full-size image in memory.
            tiles += [_thumb(s.image), _thumb(zone_overlay(s.image, s.zones))]
            captions += [_caption(s.label), name]
        progress.update(i + 1)
    progress.close()

    sheet_note = ""
    if args.sheet:
        sheet = contact_sheet(tiles, captions, tile=SHEET_TILE, columns=8)  # 4 samples per row
        sheet_path = save_png(out / "contact_sheet.png", sheet)
        sheet_note = f"; contact sheet {sheet_path}"
    if not args.quiet:
        present = [n for cid, n in enumerate(ZONE_CLASSES) if pixel_counts[cid] > 0]
        total = pixel_counts.sum()
        classes = ", ".join(f"{n} {pixel_counts[ZONE_CLASSES.index(n)] / total:.0%}" for n in present)
        kind_note = ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
        print(
            f"wrote {args.n} samples ({args.size}x{args.size} px; {kind_note}) to {out}; "
            f"classes present (pixel share): {classes}{sheet_note}"
        )
    return 0


def _thumb(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    if max(h, w) <= SHEET_TILE:
        return image
    scale = SHEET_TILE / max(h, w)
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _caption(label: dict) -> str:
    view = label.get("view") or {}
    skin = label.get("skin") or {}
    fitz = skin.get("fitzpatrick")
    parts = [
        str(view.get("region", "?")),
        f"F{fitz}" if fitz is not None else "F?",
        str(label.get("pattern")),
    ]
    return " ".join(parts)


# ----------------------------------------------------------------------------------------------- main

_VERBS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _register_synth,
    cli_batch.register_score,
    cli_batch.register_info,
    cli_batch.register_bench,
    cli_model.register_train,
    cli_model.register_export,
    cli_model.register_evaluate,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "smpvision: scalp-micropigmentation photo analysis. Finds hair, thinning, bald and scar zones, "
            "measures skin tone and hair colour, and recommends pigment and dot density. "
            "Run 'smpvision VERB --help' for a verb's options."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for register in _VERBS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (usage errors exit with 2 through argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args, args.verb_parser))
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    except (OSError, AnnotationError) as exc:
        # Expected failures (unwritable folder, bad annotation) get one line, not a traceback; anything
        # else is a bug and keeps its traceback.
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # also `python -m smpvision.cli`, which torchrun can launch
    sys.exit(main())
