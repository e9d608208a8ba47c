"""The model verbs of the `smpvision` console script: train, export (need the `train` extra: torch) and
evaluate (needs only the runtime). They import training/ lazily so the runtime CLI never needs torch."""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

TRAIN_EXTRA_HINT = (
    "this verb needs the training extra (torch, torchvision, albumentations): pip install -e '.[train]'"
)


def _need_training() -> bool:
    """True when the train extra is installed. Looks the packages up without importing them, so the
    runtime package never imports torch itself; training/ does, once this returns True."""
    missing = []
    for name in ("torch", "torchvision", "albumentations"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None (disabled) in sys.modules
            found = False
        if not found:
            missing.append(name)
    if missing:
        print(f"smpvision: error: {TRAIN_EXTRA_HINT} (missing: {', '.join(missing)})", file=sys.stderr)
        return False
    return True


# ---------------------------------------------------------------------------------------------- train


def register_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the zones + density network on rendered scalps (needs the train extra)",
        description=(
            "Train from a YAML config (see configs/). KEY=VALUE overrides such as optim.steps=200 or "
            "out_dir=runs/try are applied on top; unknown keys are rejected. Checkpoints (OUT_DIR/last.pt, "
            "with the config inside), OUT_DIR/config.yaml and OUT_DIR/metrics.csv are written as it goes; "
            "running the same command again resumes from OUT_DIR/last.pt. Runs under "
            "'torchrun --nproc_per_node N -m smpvision train ...' for DDP (gloo on CPU, NCCL on GPU)."
        ),
    )
    p.add_argument("--config", type=Path, default=None, help="YAML config; defaults apply without one")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    p.add_argument("--no-resume", action="store_true", help="start over even if OUT_DIR/last.pt exists")
    p.set_defaults(run=_run_train, verb_parser=p)


def _run_train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not _need_training():
        return 2
    from training.config import ConfigError, load_config
    from training.train import fit

    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        parser.error(str(exc))
    if cfg.init_from and not Path(cfg.init_from).is_file():
        parser.error(f"init_from={cfg.init_from}: no such checkpoint; give a run's last.pt")
    path = fit(cfg, resume=not args.no_resume)
    print(f"checkpoint: {path}")
    return 0


# --------------------------------------------------------------------------------------------- export


def register_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a checkpoint to ONNX (fp32 + optional int8), with self-checks (needs the train extra)",
        description=(
            "Write the ONNX file of DESIGN.md (uint8 NHWC image in; zones probabilities and density out; "
            "metadata inside), check it with the onnx checker and compare ONNX Runtime against torch at a "
            "size other than the traced one. --int8 also writes NAME.int8.onnx (static QDQ quantization "
            "calibrated on rendered scalps)."
        ),
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="a last.pt written by 'smpvision train'")
    p.add_argument("--out", type=Path, required=True, help="output .onnx path")
    p.add_argument(
        "--density-from",
        type=Path,
        default=None,
        metavar="CHECKPOINT",
        help="take the density output from this checkpoint's network instead: both networks go into the "
        "file and read the same image, zones from --checkpoint and density from this one (e.g. a "
        "network chosen for its zones and another for its hair counts; about twice the run time)",
    )
    p.add_argument("--int8", action="store_true", help="also write an int8 variant next to it")
    p.add_argument(
        "--zone-bias",
        default=None,
        metavar="B0,B1,B2,B3,B4 | FILE.json",
        help="add one value per zone class (background, hair, thinning, bald, scar) to the zone logits "
        "before the softmax in the graph: a class-prior shift, e.g. the 'bias' that "
        "benchmarks/zone_prior.py fits and writes (pass its JSON file); recorded in the metadata",
    )
    p.set_defaults(run=_run_export, verb_parser=p)


def _zone_bias(value: str | None, parser: argparse.ArgumentParser) -> list[float] | None:
    """--zone-bias as a list of floats, or a usage error before torch is loaded. export_onnx checks the
    same for callers of the API."""
    from .contracts import ZONE_CLASSES

    if value is None:
        return None
    path = Path(value)
    if path.suffix == ".json":
        if not path.is_file():
            parser.error(f"--zone-bias {path} not found")
        try:
            bias = json.loads(path.read_text(encoding="utf-8"))["bias"]
        except (ValueError, KeyError, TypeError):
            parser.error(f"--zone-bias {path} has no 'bias' list (write it with benchmarks/zone_prior.py)")
    else:
        try:
            bias = [float(v) for v in value.split(",")]
        except ValueError:
            parser.error(f"--zone-bias takes 5 comma-separated numbers or a .json file, got {value!r}")
    n = len(ZONE_CLASSES)
    try:
        values = [float(v) for v in bias]
    except (TypeError, ValueError):
        values = []
    if len(values) != n or not all(math.isfinite(v) for v in values):
        parser.error(f"--zone-bias needs {n} finite values ({', '.join(ZONE_CLASSES)}), got {bias!r}")
    return values


def _run_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.out.suffix != ".onnx":
        parser.error(f"--out must end in .onnx, got {args.out}")
    if not args.checkpoint.is_file():
        parser.error(f"--checkpoint {args.checkpoint} not found; train first ('smpvision train')")
    if args.density_from is not None and not args.density_from.is_file():
        parser.error(f"--density-from {args.density_from} not found")
    zone_bias = _zone_bias(args.zone_bias, parser)
    if not _need_training():
        return 2
    from training.export import composite_metadata, export_onnx, quantize_int8
    from training.model import ComposedSegmenter
    from training.train import checkpoint_stages, load_checkpoint

    from .segmenter import CHECKSUMS, write_checksums

    net, cfg, ckpt = load_checkpoint(args.checkpoint)
    stages = checkpoint_stages(ckpt)
    extra = None
    if args.density_from is not None:
        density_net, density_cfg, density_ckpt = load_checkpoint(args.density_from)
        try:
            extra = composite_metadata(cfg, stages, density_cfg, checkpoint_stages(density_ckpt))
        except ValueError as err:
            parser.error(str(err))
        net = ComposedSegmenter(net, density_net)
    report = export_onnx(
        net,
        cfg,
        args.out,
        step=int(ckpt["step"]),
        world_size=int(ckpt.get("world_size", 1)),
        stages=stages,
        zone_bias=zone_bias,
        extra_metadata=extra,
    )
    print(
        f"wrote {report.path} ({report.size_mb:.1f} MB); onnx checker passed; ORT vs torch at "
        f"{report.parity_size[0]}x{report.parity_size[1]}: zones max diff {report.max_abs_diff_zones:.1e}, "
        f"density relative diff {report.max_abs_diff_density_rel:.1e}"
        + (f"; zone logit bias {zone_bias}" if zone_bias else "")
    )
    if args.int8:
        path = quantize_int8(args.out, args.out.with_suffix(".int8.onnx"))
        size_mb = path.stat().st_size / 1e6
        print(f"wrote {path} ({size_mb:.1f} MB); measure its accuracy with 'smpvision evaluate --model'")
    if (args.out.parent / CHECKSUMS).is_file():  # e.g. shipping into smpvision/models/: keep it loadable
        print(f"updated {write_checksums(args.out.parent)}")
    return 0


# ------------------------------------------------------------------------------------------- evaluate


def register_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score an ONNX model on rendered held-out scenes, labelled folders and the real photo sets",
        description=(
            "Rendered held-out scenes come from a seed space never used in training. --real points at a "
            "folder holding hairloss-levels/ and/or trichoscopy-counts/ (see their README): severity "
            "Spearman per view, and close-up hair count error. The rendered close-ups are scored a second "
            "and third time through the runtime's close-up rescaling, with their labelled scale and with "
            "the scale estimated from the image, as users' photos are. Prints a table and writes JSON."
        ),
    )
    p.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    p.add_argument("--rendered", type=int, default=300, help="rendered held-out scenes (0 to skip)")
    p.add_argument("--size", type=int, default=256, help="side of the rendered scenes in px")
    p.add_argument(
        "--folder", type=Path, action="append", default=[], help="annotated-photo folder (repeatable)"
    )
    p.add_argument(
        "--real", type=Path, default=None, help="folder with hairloss-levels/ and trichoscopy-counts/"
    )
    p.add_argument("--real-limit", type=int, default=None, help="at most this many severity photos per view")
    p.add_argument(
        "--real-closeup-mm-per-px",
        type=float,
        default=None,
        help="also score trichoscopy-counts at this known scale (its 1 mm bar spans 360 px: 0.00278)",
    )
    p.add_argument(
        "--drawn-zones",
        action="store_true",
        help="score rendered whole-head photos on the zones as drawn, also where the pixels do not show "
        "them (long hair over bald scalp, shaved white hair): the scoring before 2026-11-22",
    )
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0 = all cores)")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    p.set_defaults(run=_run_evaluate, verb_parser=p)


def _run_evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from smpvision.cli import Progress
    from smpvision.segmenter import Segmenter, SegmenterOptions

    if args.rendered < 0:
        parser.error(f"--rendered must be >= 0, got {args.rendered}")
    for folder in args.folder:
        if not folder.is_dir():
            parser.error(f"--folder {folder} is not a folder")
    if args.real is not None and not args.real.is_dir():
        parser.error(f"--real {args.real} is not a folder")
    from training import evaluate as ev

    seg = Segmenter.from_path(args.model, SegmenterOptions(threads=args.threads))
    policy = seg.metadata.get("smpvision.closeup_zones", "train")
    results: dict = {
        "model": str(args.model or "bundled"),
        "rendered_zones": "drawn" if args.drawn_zones else "visible",
        "metadata_sha256": seg.metadata.get("smpvision.weights_sha256"),
    }
    if args.rendered:
        bar = Progress(args.rendered, "rendered held-out")
        closeups: list = []
        results["rendered_heldout"] = ev.score_samples(
            ev.set_aside_closeups(
                ev.rendered_heldout(args.rendered, args.size, visible=not args.drawn_zones), closeups
            ),
            ev.segment_with_label(seg, "as_is"),
            bar.update,
            closeup_policy=policy,
        )
        bar.close()
        # The rendered close-ups again, as a user's photo reaches the model: through the runtime's
        # close-up rescaling, with the scale known and with it estimated from the image. Run as they are,
        # they never exercise that path (a rescaling bug once hid behind the figures above).
        for scale in ("label", "estimated") if closeups else ():
            bar = Progress(len(closeups), f"rendered close-ups, {scale} scale")
            results[f"rendered_closeups_{scale}_scale"] = ev.score_samples(
                closeups, ev.segment_with_label(seg, scale), bar.update, closeup_policy=policy
            )
            bar.close()
    for folder in args.folder:
        samples = list(ev.folder_samples(folder))
        bar = Progress(len(samples), f"folder {folder.name}")
        results[f"folder:{folder}"] = ev.score_samples(
            samples, ev.segment_with_label(seg, "label"), bar.update, closeup_policy=policy
        )
        bar.close()
    if args.real is not None:
        results.update(ev.evaluate_real(seg, args.real, args.real_limit, args.real_closeup_mm_per_px))
    for line in ev.headline(results):
        print(line)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=float))
        print(f"wrote {args.out}")
    return 0
