"""The runtime verbs of the `smpvision` console script: score (batch), info and bench. Thin wrappers over
smpvision.batch, smpvision.segmenter and smpvision.assess; no torch."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .contracts import SCALP_ZONES

# ---------------------------------------------------------------------------------------------- score


def register_score(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score photos or folders of photos into a JSON-lines results file (resumable)",
        description=(
            "Assess every photo (files, folders searched recursively for image files, or glob patterns) "
            "and append one JSON line per photo (the assessment document of DESIGN.md) to --out as each "
            "finishes. Safe to interrupt: rerunning the same command skips photos that already have an "
            "'ok' row for the same content and model, retries failed ones, and leaves every photo in the "
            "file exactly once. A photo that cannot be read or assessed becomes an 'error' row and the "
            "batch goes on. Exit status: 0 all photos ok, 1 some failed, 2 usage error."
        ),
        epilog=(
            "examples:\n"
            "  smpvision score clinic/photos --out results.jsonl --csv results.csv\n"
            "  smpvision score 'scans/**/*.jpg' --out r.jsonl --overlays overlays --workers 2\n"
            "  smpvision score closeups --view closeup --mm-per-px 0.0028 --out closeups.jsonl"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="photo files, folders or glob patterns (quote them)"
    )
    p.add_argument("--out", type=Path, required=True, help="results file, JSON lines (appended, resumed)")
    p.add_argument("--csv", type=Path, default=None, help="also write a flat CSV of every row in --out")
    p.add_argument(
        "--overlays", type=Path, default=None, metavar="DIR", help="zone overlay PNG with legend per photo"
    )
    p.add_argument(
        "--masks",
        type=Path,
        default=None,
        metavar="DIR",
        help="predicted zone ids (0 background .. 4 scar) as PNG, same name and size as the photo",
    )
    p.add_argument("--report", type=Path, default=None, metavar="DIR", help="a report per photo")
    p.add_argument(
        "--report-format", choices=("html", "pdf"), default="html", help="format of --report files"
    )
    p.add_argument(
        "--view",
        choices=("auto", "overview", "closeup"),
        default="auto",
        help="whole-head photo, trichoscope/macro close-up, or detect per photo (default auto)",
    )
    p.add_argument(
        "--mm-per-px",
        type=float,
        default=None,
        metavar="X",
        help="scale of every photo at full resolution, when known (else the marker card or the "
        "close-up estimate is used)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes, each with its own model session and a share of the cores "
        "(default: the number of cores)",
    )
    p.add_argument(
        "--model", type=Path, default=None, help="an smpvision .onnx file (default: the bundled model)"
    )
    p.add_argument("--force", action="store_true", help="score photos again even if they have an ok row")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar and no summary line")
    p.set_defaults(run=_run_score, verb_parser=p)  # fmt: skip


def _run_score(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import batch
    from .cli import Progress

    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.mm_per_px is not None and not 0 < args.mm_per_px < 10:
        parser.error(
            f"--mm-per-px must be a positive scale in millimetres per pixel (< 10), got {args.mm_per_px}"
        )
    if args.out.is_dir():
        parser.error(f"--out {args.out} is a folder; give a file name such as results.jsonl")
    outputs = batch.OutputOptions(args.overlays, args.masks, args.report, args.report_format)
    for flag, folder in (("--overlays", args.overlays), ("--masks", args.masks), ("--report", args.report)):
        if folder is not None and folder.exists() and not folder.is_dir():
            parser.error(f"{flag} {folder} exists and is not a folder")
    try:
        out_dirs = [d for d in (args.overlays, args.masks, args.report) if d is not None]
        photos = batch.find_photos(args.paths, exclude=out_dirs)
        if not photos:
            parser.error(f"no photos found in {' '.join(args.paths)} (looked for {_extensions()})")
        options = batch.BatchOptions(args.view, args.mm_per_px, args.model, args.workers, args.force, outputs)
        model = batch.check_model(args.model)
    except batch.UsageError as exc:
        parser.error(str(exc))
    except (ValueError, RuntimeError) as exc:  # a model file that is not an smpvision model, or damaged
        print(f"smpvision: error: {exc}", file=sys.stderr)
        return 1

    progress = Progress(len(photos), "scoring", enabled=not args.quiet)
    failed_notes: list[str] = []

    def on_row(error: str | None, done: int, todo: int) -> None:
        progress.total = todo
        if error is not None:
            failed_notes.append(error)
        progress.update(done, f"{len(failed_notes)} failed  " if failed_notes else "")

    summary = batch.run_batch(photos, args.out, options, on_row, model)
    progress.close()
    if args.csv is not None:
        write_csv(batch.read_results(args.out), args.csv)
    if not args.quiet:
        for note in failed_notes[:20]:
            print(f"error: {note}", file=sys.stderr)
        if len(failed_notes) > 20:
            print(
                f'... and {len(failed_notes) - 20} more errors (status "error" rows in {args.out})',
                file=sys.stderr,
            )
        rate = summary.scored / summary.seconds if summary.seconds > 0 else 0.0
        print(
            f"{summary.total} photos: {summary.scored - summary.failed} scored ok, {summary.failed} failed, "
            f"{summary.skipped} already done (skipped) in {summary.seconds:.1f} s ({rate:.1f} photos/s) "
            f"-> {args.out}" + (f", {args.csv}" if args.csv else ""),
            file=sys.stderr,
        )
    return summary.exit_code


def _extensions() -> str:
    from .io import PHOTO_EXTENSIONS

    return " ".join(sorted(PHOTO_EXTENSIONS))


CSV_COLUMNS = (
    [
        "file",
        "status",
        "error",
        "view",
        "width",
        "height",
        "mm_per_px",
        "scale_source",
        "quality_ok",
        "warnings",
    ]
    + [f"{z}_share" for z in SCALP_ZONES]
    + [f"{z}_cm2" for z in SCALP_ZONES]
    + ["hairs_estimated"]
    + [f"{z}_relative_density" for z in SCALP_ZONES]
    + ["skin_ita_deg", "fitzpatrick", "skin_hex", "hair_name", "hair_hex", "grey_fraction", "scars"]
    + ["pigment_shade", "dilution", "pigment_hex"]
    + [f"dots_per_cm2_{z}" for z in (*SCALP_ZONES, "hairline")]
    + ["sessions", "flags", "treatment_area_cm2", "sha256", "model"]
)


def csv_row(doc: dict[str, Any]) -> dict[str, Any]:
    """One results row flattened for spreadsheets; missing parts stay empty."""

    def get(*path: str) -> Any:
        cur: Any = doc
        for key in path:
            cur = cur.get(key) if isinstance(cur, dict) else None
        return cur

    row: dict[str, Any] = {
        "file": doc.get("file"), "status": doc.get("status"), "error": doc.get("error"),
        "view": get("view", "kind"), "width": get("image", "width"), "height": get("image", "height"),
        "mm_per_px": get("calibration", "mm_per_px"), "scale_source": get("calibration", "source"),
        "quality_ok": get("quality", "ok"), "warnings": "; ".join(get("quality", "warnings") or []),
        "hairs_estimated": get("density", "hairs_estimated"),
        "skin_ita_deg": get("skin", "ita_deg"), "fitzpatrick": get("skin", "fitzpatrick"),
        "skin_hex": get("skin", "hex"), "hair_name": get("hair", "name"), "hair_hex": get("hair", "hex"),
        "grey_fraction": get("hair", "grey_fraction"),
        "scars": "; ".join(f"{s.get('type')}" for s in doc.get("scars") or []),
        "pigment_shade": get("recommendation", "pigment", "shade"),
        "dilution": get("recommendation", "pigment", "dilution"),
        "pigment_hex": get("recommendation", "pigment", "hex"),
        "sessions": len(get("recommendation", "sessions") or []) or None,
        "flags": "; ".join(doc.get("flags") or []),
        "treatment_area_cm2": get("recommendation", "treatment_area_cm2"),
        "sha256": get("image", "sha256"), "model": get("model", "name"),
    }  # fmt: skip
    for z in SCALP_ZONES:
        row[f"{z}_share"] = get("zones", z, "fraction_of_scalp")
        row[f"{z}_cm2"] = get("zones", z, "area_cm2")
        row[f"{z}_relative_density"] = get("density", "relative", z)
    for z in (*SCALP_ZONES, "hairline"):
        row[f"dots_per_cm2_{z}"] = get("recommendation", "dots_per_cm2", z)
    return row


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for doc in rows:
            w.writerow(csv_row(doc))
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------- info


def _produce(make: Callable[[], dict[str, Any]], as_json: bool) -> tuple[int, dict[str, Any] | None]:
    """Run a model verb: (1, None) after a one-line error, (0, None) once printed as JSON, else (0, result)
    for the verb to print as a table."""
    try:
        result = make()
    except (FileNotFoundError, ValueError, RuntimeError) as exc:  # missing, damaged or foreign model file
        print(f"smpvision: error: {exc}", file=sys.stderr)
        return 1, None
    if as_json:
        print(json.dumps(result, indent=2))
        return 0, None
    return 0, result


def register_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="print the model's metadata (classes, scale, version, training data, checksum)",
        description="Print what an smpvision ONNX file says about itself: the metadata_props of DESIGN.md, "
        "its inputs and outputs, file size and sha256.",
    )
    p.add_argument("--model", type=Path, default=None, help="an .onnx file (default: the bundled model)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(run=_run_info, verb_parser=p)


def model_info(model: Path | None) -> dict[str, Any]:
    from .segmenter import Segmenter

    with Segmenter.from_path(model) as seg:
        sess = seg.session
        return {
            "file": str(seg.model_file),
            "bytes": seg.model_file.stat().st_size if seg.model_file else None,
            "sha256": seg.identity["sha256"],
            "inputs": [{"name": i.name, "type": i.type, "shape": i.shape} for i in sess.get_inputs()],
            "outputs": [{"name": o.name, "type": o.type, "shape": o.shape} for o in sess.get_outputs()],
            "metadata": dict(sorted(seg.metadata.items())),
        }


def _run_info(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    code, info = _produce(lambda: model_info(args.model), args.json)
    if info is None:
        return code
    print(f"model    {info['file']}")
    print(f"size     {info['bytes'] / 1e6:.1f} MB   sha256 {info['sha256']}")
    for kind in ("inputs", "outputs"):
        for t in info[kind]:
            print(f"{kind[:-1]:<8} {t['name']}: {t['type']} {t['shape']}")
    for key, value in info["metadata"].items():
        if key in ("smpvision.training_config", "smpvision.density_training_config"):
            value = f"{len(value)} characters of JSON (the full training config; --json shows it)"
        print(f"{key.removeprefix('smpvision.'):<24} {value}")
    return 0


# ---------------------------------------------------------------------------------------------- bench


def register_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="time the model and a full assessment on this machine",
        description=(
            "Time the ONNX model on random photos at 512x512 and 1024x768, and a whole assessment of a "
            "rendered photo, on this machine. Prints the median milliseconds of --runs runs after a warm-up."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--model", type=Path, default=None, help="an .onnx file (default: the bundled model)")
    p.add_argument("--runs", type=int, default=10, help="timed runs per case (>= 1)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(run=_run_bench, verb_parser=p)


def bench(model: Path | None, runs: int, threads: int) -> dict[str, Any]:
    import numpy as np

    from .assess import AssessOptions, assess
    from .segmenter import Segmenter, SegmenterOptions
    from .synth import render_sample

    def median_ms(fn) -> float:
        fn()  # warm-up: first runs allocate and pick kernels
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return round(float(np.median(times)), 2)

    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"threads": threads or os.cpu_count(), "runs": runs, "ms": {}}
    with Segmenter.from_path(model, SegmenterOptions(threads=threads)) as seg:
        out["model"] = seg.identity["name"]
        for w, h in ((512, 512), (1024, 768)):
            img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            out["ms"][f"model {w}x{h}"] = median_ms(lambda img=img: seg.run(img))
        photo = render_sample(seed=(0, 0), size=1024, kind="overview").image
        closeup = render_sample(seed=(0, 3), size=1024, kind="closeup").image
        for name, img in (("assess overview 1024", photo), ("assess closeup 1024", closeup)):
            out["ms"][name] = median_ms(lambda img=img: assess(img, AssessOptions(), segmenter=seg))
    return out


def _run_bench(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    code, result = _produce(lambda: bench(args.model, args.runs, args.threads), args.json)
    if result is None:
        return code
    print(f"{result['model']} on {result['threads']} thread(s), median of {result['runs']} runs:")
    for name, ms in result["ms"].items():
        print(f"  {name:<24} {ms:8.1f} ms")
    return 0
