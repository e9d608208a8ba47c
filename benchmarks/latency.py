"""Model latency: ONNX Runtime fp32 and int8 against torch eager on the same network, on N CPU threads.

    python benchmarks/latency.py [--model smpvision/models/smpvision-zones.onnx] [--threads 2]

Prints median/p90 milliseconds per image at 512×512 and 1024×768, the ratios the model issue targets
(fp32 ≤ 35 ms and int8 ≤ 20 ms at 512×512; ORT ≥ 3× torch eager), and writes them as JSON. Every
runtime is timed in --rounds rounds (default 3), the runtimes' order reversed from round to round; the
figures are the median over rounds and the range of the rounds' medians is printed beside them: one
round of torch eager once read 103.8 ms where the next read 27.9 ms (a 7.2× ratio from noise). torch is
optional: without it the eager column is skipped. The torch network is rebuilt from the training config
stored in the ONNX file, so both run the same architecture. Each runtime is timed in a child process of
its own (this script with --child).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = ((512, 512), (768, 1024))  # (H, W)
TARGETS_MS = {"fp32": 35.0, "int8": 20.0}


def timeit(fn: Callable[[], object], repeats: int, warmup: int = 5) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(times), "p90_ms": float(np.percentile(times, 90))}


def ort_runner(path: Path, threads: int, image: np.ndarray) -> Callable[[], object]:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"image": image})


def torch_runner(path: Path, threads: int, image: np.ndarray) -> Callable[[], object] | None:
    try:
        import onnxruntime as ort
        import torch

        from training.export import ServingModel, network_from_metadata
    except ImportError:
        return None
    torch.set_num_threads(threads)
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    net = ServingModel(network_from_metadata(meta.custom_metadata_map)).eval()
    x = torch.from_numpy(image)

    def run() -> object:
        with torch.inference_mode():
            return net(x)

    return run


def time_one(kind: str, path: Path, threads: int, h: int, w: int, repeats: int) -> dict[str, float] | None:
    """One runtime at one size, in this process; None when it cannot run here (no torch)."""
    image = np.random.default_rng(0).integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    fn = torch_runner(path, threads, image) if kind == "torch_eager" else ort_runner(path, threads, image)
    return None if fn is None else timeit(fn, repeats)


def time_in_child(kind: str, path: Path, threads: int, h: int, w: int, repeats: int) -> dict | None:
    """time_one in a fresh process. ONNX Runtime's and torch's thread pools keep spinning for a while
    after a call; sharing one process (and 2 cores) they slowed each other by up to 2x, which made the
    ratios depend on the order the runtimes were timed in."""
    cmd = [sys.executable, __file__, "--child", kind, "--model", str(path), "--threads", str(threads),
           "--size", f"{h}x{w}", "--repeats", str(repeats)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_rounds(
    kinds: dict[str, Path], threads: int, h: int, w: int, repeats: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Each runtime timed `rounds` times in children of its own, the order reversed every other round (so
    no runtime always runs first, after the machine was idle): per runtime the median over rounds of the
    round medians and p90s, and the lowest and highest round median."""
    per_kind: dict[str, list[dict[str, float]]] = {}
    order = list(kinds)
    for r in range(rounds):
        for kind in order if r % 2 == 0 else order[::-1]:
            timed = time_in_child(kind, kinds[kind], threads, h, w, repeats)
            if timed is not None:
                per_kind.setdefault(kind, []).append(timed)
    row = {}
    for kind in order:  # the printed order stays fp32, int8, torch
        if kind not in per_kind:
            continue
        medians = [t["median_ms"] for t in per_kind[kind]]
        row[kind] = {
            "median_ms": statistics.median(medians),
            "p90_ms": statistics.median(t["p90_ms"] for t in per_kind[kind]),
            "round_min_ms": min(medians),
            "round_max_ms": max(medians),
            "rounds": len(medians),
        }
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "smpvision/models/smpvision-zones.onnx")
    ap.add_argument("--int8", type=Path, default=None, help="int8 model (default: MODEL with .int8.onnx)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20, help="timed calls per round (after 5 warm-up calls)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per runtime and size (figures: median)")
    ap.add_argument("--out", type=Path, default=ROOT / "outputs/latency.json")
    ap.add_argument("--child", choices=("fp32", "int8", "torch_eager"), help=argparse.SUPPRESS)
    ap.add_argument("--size", default="512x512", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rounds < 1 or args.repeats < 1:
        ap.error("--rounds and --repeats must be at least 1")
    if args.child:  # internal: one runtime, one size, JSON on stdout
        h, w = (int(v) for v in args.size.split("x"))
        print(json.dumps(time_one(args.child, args.model, args.threads, h, w, args.repeats)))
        return 0
    int8 = args.int8 or args.model.with_suffix(".int8.onnx")
    kinds = {"fp32": args.model, "int8": int8, "torch_eager": args.model}
    if not int8.exists():
        del kinds["int8"]
    results: dict[str, dict] = {}
    for h, w in SIZES:
        row = time_rounds(kinds, args.threads, h, w, args.repeats, args.rounds)
        results[f"{h}x{w}"] = row
        line = "  ".join(
            f"{k} {v['median_ms']:.1f} ms (p90 {v['p90_ms']:.1f}; rounds {v['round_min_ms']:.1f}–"
            f"{v['round_max_ms']:.1f})"
            for k, v in row.items()
        )
        print(f"{w}x{h} on {args.threads} threads: {line}")
        if "torch_eager" in row:
            ratio = row["torch_eager"]["median_ms"] / row["fp32"]["median_ms"]
            row["ort_fp32_speedup_vs_torch"] = {"ratio": ratio}
            print(f"    ORT fp32 is {ratio:.1f}x torch eager (target >= 3x)")
        if "int8" in row:
            print(f"    int8 is {row['fp32']['median_ms'] / row['int8']['median_ms']:.2f}x fp32")
    at512 = results["512x512"]
    for kind, target in TARGETS_MS.items():
        if kind in at512:
            got = at512[kind]["median_ms"]
            print(f"target {kind} <= {target:.0f} ms at 512x512: {got:.1f} ms ({got / target:.2f} of target)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": args.threads, "results": results}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
