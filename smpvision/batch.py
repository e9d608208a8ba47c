"""Batch scoring: many photos in, one JSON line per photo out, resumable and safe to kill at any moment.

The results file is the source of truth. Each photo's assessment document is written as one whole line
with a single append-mode write(2) as soon as it is finished, so a kill (even -9) leaves at most a torn
last line, which the next run drops. A rerun of the same command resumes: a photo whose path, content
hash and model file already have an `ok` row is skipped; error rows and rows superseded by `force` are
removed (the file is rewritten atomically first), so every photo ends up in the file exactly once.

Work runs in N worker processes (spawned, each with its own ONNX Runtime session and a share of the cores)
with a bounded number of photos in flight, so memory does not grow with the batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import glob
import hashlib
import json
import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .io import PHOTO_EXTENSIONS

IN_FLIGHT_PER_WORKER = 4  # queued photos per worker: enough to keep it busy, few enough to bound memory


class UsageError(ValueError):
    """Bad command-line input (the CLI exits 2)."""


@dataclass(frozen=True)
class Photo:
    path: Path  # where to read it
    key: str  # how it is named in the results (`file`): the path as found, relative where it was given so
    stem: str  # output name for overlays/masks/reports, unique within the batch, folders kept


@dataclass
class OutputOptions:
    overlays: Path | None = None
    masks: Path | None = None
    report: Path | None = None
    report_format: str = "html"  # "html" | "pdf"


@dataclass
class BatchOptions:
    view: str = "auto"
    mm_per_px: float | None = None
    model: Path | None = None  # None: the bundled model
    workers: int = 1
    force: bool = False
    outputs: OutputOptions = field(default_factory=OutputOptions)


@dataclass
class BatchSummary:
    total: int = 0  # photos found
    skipped: int = 0  # already had an ok row
    scored: int = 0  # assessed in this run (ok or error)
    failed: int = 0  # error rows written in this run
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# ------------------------------------------------------------------------------------------- discovery


def find_photos(paths: Sequence[str], exclude: Iterable[Path] = ()) -> list[Photo]:
    """Files (any extension: the user named them), folders (recursive, image extensions only, hidden
    entries skipped) and glob patterns, in a stable order, each photo once. `exclude`: folders never
    walked (the batch's own overlay/mask/report folders, so a rerun does not score its own output)."""
    excluded = [p.resolve() for p in exclude]
    found: dict[Path, Photo] = {}
    stems: set[str] = set()

    def add(path: Path, stem: str) -> None:
        real = path.resolve()
        if real in found or any(real.is_relative_to(e) for e in excluded):
            return
        unique, n = stem, 2
        while unique in stems:  # the same relative name under two roots: a/x.jpg and b/x.jpg
            unique, n = f"{stem}__{n}", n + 1
        stems.add(unique)
        found[real] = Photo(path, str(path), unique)

    for arg in paths:
        candidates = (
            [Path(arg)] if Path(arg).exists() else [Path(p) for p in sorted(glob.glob(arg, recursive=True))]
        )
        if not candidates:
            hint = " (no file matches the pattern)" if glob.has_magic(arg) else ""
            raise UsageError(f"{arg}: no such file or folder{hint}")
        for cand in candidates:
            if cand.is_dir():
                for f in _walk(cand):
                    add(f, str(f.relative_to(cand).with_suffix("")))
            elif cand.is_file() and (cand.suffix.lower() in PHOTO_EXTENSIONS or not glob.has_magic(arg)):
                add(cand, cand.stem)
    return list(found.values())


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in PHOTO_EXTENSIONS:
                yield Path(root) / name


# --------------------------------------------------------------------------------------------- results


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_results(path: Path) -> list[dict[str, Any]]:
    """Every whole row of a results file; a torn last line (a killed run) and blank lines are dropped."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                break  # torn: the run was killed mid-write (only ever the last line)
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "file" in row:
                rows.append(row)
    return rows


def _rewrite(path: Path, rows: list[dict[str, Any]]) -> None:
    """Replace the results file atomically: a kill leaves either the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ResultsWriter:
    """Appends whole lines with one write(2) each on an O_APPEND descriptor: no torn line but the last."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        while data:  # a regular file takes it all at once; the loop only guards a short write
            data = data[os.write(self.fd, data) :]

    def close(self) -> None:
        os.close(self.fd)


def plan(photos: list[Photo], results: Path, model_sha: str, force: bool) -> tuple[list[Photo], int]:
    """Which photos to score, after making the results file hold only rows that stay: ok rows of photos
    that are skipped, and rows of photos outside this batch (nothing of another batch is lost)."""
    rows = read_results(results)
    keys = {p.key for p in photos}
    done: dict[str, dict[str, Any]] = {}
    for row in rows:
        if (
            row["file"] in keys
            and row.get("status") == "ok"
            and (row.get("model") or {}).get("sha256") == model_sha
        ):
            done[row["file"]] = row
    todo, kept_ok = [], set()
    for p in photos:
        row = done.get(p.key)
        sha = (row or {}).get("image", {}).get("sha256")
        if row is not None and not force and sha == file_sha256(p.path):
            kept_ok.add(p.key)
        else:
            todo.append(p)
    kept, seen = [], set()
    for row in rows:
        f = row["file"]
        if f not in keys:
            kept.append(row)
        elif f in kept_ok and row.get("status") == "ok" and f not in seen:
            kept.append(row)
            seen.add(f)
    if results.exists() and len(kept) != len(rows) or _torn(results):
        _rewrite(results, kept)
    return todo, len(kept_ok)


def _torn(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


# -------------------------------------------------------------------------------------------- workers

_WORKER: dict[str, Any] = {}


def _init_worker(model: Path | None, threads: int, options: dict[str, Any]) -> None:
    """Runs once per worker process: its own ONNX Runtime session, limited to its share of the cores."""
    import cv2

    cv2.setNumThreads(threads)
    from .assess import AssessOptions
    from .recommend import load_rules
    from .segmenter import Segmenter, SegmenterOptions

    _WORKER["segmenter"] = Segmenter.from_path(model, SegmenterOptions(threads=threads))
    _WORKER["rules"] = load_rules()
    _WORKER["options"] = AssessOptions(view=options["view"], mm_per_px=options["mm_per_px"])
    _WORKER["outputs"] = options["outputs"]


def _score(photo: Photo) -> tuple[str, str | None]:
    """One photo → (its JSON line, its error message or None). Never raises: an unexpected failure is an
    error row, and the batch goes on."""
    from .assess import assess_photo, error_document

    seg = _WORKER["segmenter"]
    try:
        result = assess_photo(photo.path, photo.key, None, _WORKER["options"], seg, _WORKER["rules"])
        doc = result.document
        if result.image is not None:
            write_outputs(photo, result, _WORKER["outputs"])
    except Exception as exc:  # a bug or an odd photo must not stop a batch of thousands
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(last.filename).name}:{last.lineno}"
        doc = error_document(photo.key, f"{photo.key}: internal error {type(exc).__name__}: {exc} ({where})",
                             seg.identity)  # fmt: skip
    return json.dumps(doc, ensure_ascii=False), None if doc.get("status") == "ok" else str(doc.get("error"))


def write_outputs(photo: Photo, result: Any, outputs: OutputOptions) -> None:
    """Overlay, mask and report files of one photo; built from pixels only, so no EXIF/GPS is carried."""
    from .io import image_to_png_bytes

    if outputs.masks is not None and result.zones is not None:
        import cv2

        img = result.document["image"]
        full = cv2.resize(result.zones, (img["width"], img["height"]), interpolation=cv2.INTER_NEAREST)
        _write_bytes(outputs.masks / f"{photo.stem}.png", image_to_png_bytes(full))
    if outputs.overlays is not None and result.zones is not None:
        from .report import overlay_with_legend

        overlay = overlay_with_legend(result.image, result.zones, result.document)
        _write_bytes(outputs.overlays / f"{photo.stem}.png", image_to_png_bytes(overlay))
    if outputs.report is not None:
        from .assess import Assessment
        from .report import report_html, report_pdf

        one = Assessment([result], result.document)
        if outputs.report_format == "pdf":
            _write_bytes(outputs.report / f"{photo.stem}.pdf", report_pdf(one))
        else:
            _write_bytes(outputs.report / f"{photo.stem}.html", report_html(one).encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # never a half-written overlay under the final name


# ------------------------------------------------------------------------------------------------ run


def check_model(model: Path | None) -> dict[str, str | None]:
    """Open the model once up front, so a wrong or damaged file is one clear error rather than N error
    rows; returns its identity (name, sha256, versions), the resume key."""
    from .segmenter import Segmenter

    if model is not None and not Path(model).is_file():
        raise UsageError(f"--model {model}: no such file; give an smpvision .onnx file")
    try:
        with Segmenter.from_path(model) as seg:
            return seg.identity
    except (ValueError, RuntimeError):
        raise  # smpvision's own messages (wrong classes, damaged bundled file) are already one line
    except Exception as exc:  # onnxruntime's own errors for a file that is not an ONNX model
        raise ValueError(f"--model {model}: not a usable ONNX model ({type(exc).__name__}: {exc})") from None


def run_batch(
    photos: list[Photo],
    results: Path,
    options: BatchOptions,
    on_row: Callable[[str | None, int, int], None] | None = None,
    model: dict[str, str | None] | None = None,
) -> BatchSummary:
    """Score `photos` into `results` (JSON lines). on_row(error or None, done, todo) is called after each
    line. model: check_model's result when the caller already has it."""
    import time

    start = time.perf_counter()
    model = model or check_model(options.model)
    results.parent.mkdir(parents=True, exist_ok=True)
    todo, skipped = plan(photos, results, str(model["sha256"]), options.force)
    summary = BatchSummary(total=len(photos), skipped=skipped)
    if todo:
        workers = max(1, min(options.workers, len(todo)))
        threads = max(1, (os.cpu_count() or 1) // workers)
        settings = {"view": options.view, "mm_per_px": options.mm_per_px, "outputs": options.outputs}
        writer = ResultsWriter(results)
        try:
            for line, error in _lines(todo, workers, (options.model, threads, settings), model):
                writer.write(line)
                summary.scored += 1
                summary.failed += error is not None
                if on_row is not None:
                    on_row(error, summary.scored, len(todo))
        finally:
            writer.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _lines(
    todo: list[Photo], workers: int, init_args: tuple, model: dict[str, str | None]
) -> Iterator[tuple[str, str | None]]:
    if workers == 1:  # in-process: simplest to debug, no start-up cost
        _init_worker(*init_args)
        for photo in todo:
            yield _score(photo)
        return
    pending = list(reversed(todo))
    while pending:
        # spawn, not fork: ONNX Runtime and OpenCV thread pools do not survive a fork reliably
        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=init_args
        ) as pool:
            in_flight: dict[cf.Future, Photo] = {}
            try:
                while pending or in_flight:
                    while pending and len(in_flight) < workers * IN_FLIGHT_PER_WORKER:
                        photo = pending.pop()
                        in_flight[pool.submit(_score, photo)] = photo
                    done, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        in_flight.pop(fut)
                        yield fut.result()
            except cf.process.BrokenProcessPool:
                # a worker died (killed, out of memory, a crash in native code): the photos it may have held
                # become error rows, and a fresh pool carries on with the rest
                yield from _crashed(list(in_flight.values()), model)


def _crashed(photos: list[Photo], model: dict[str, str | None]) -> Iterator[tuple[str, str]]:
    from .assess import error_document

    for p in photos:
        msg = f"{p.key}: a worker process died while scoring this photo (out of memory?); rerun to retry"
        yield json.dumps(error_document(p.key, msg, model), ensure_ascii=False), msg
