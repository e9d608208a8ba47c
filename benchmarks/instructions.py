"""Instructions per inference, counted by valgrind's callgrind: a cost that this noisy machine cannot move.

    python benchmarks/instructions.py MODEL.onnx [MODEL.onnx ...] [--size 512x512] [--json FILE]

Wall-clock latency here drifts by ±20 % or more between runs (other tenants share the host), which is more
than two networks of similar size differ by. callgrind counts the instructions the CPU executes, which
moved far less: 0.3 % between two runs of one file in 2026-11, but up to 9 % in 2026-12 (555 and 509 M
for one file, the ratio to another file counted in the same runs 0.97 and 0.99), so compare only models
counted in one run: they are listed together for that. Each model runs in ONNX Runtime on one thread
with spinning off (a spinning thread pool adds instructions that do no work), once with 1 inference and
once with 3; the difference / 2 is the cost of one inference, without start-up. Needs valgrind (Debian
package); about a minute per model. Instructions are not milliseconds (cache misses and vector width
differ by operator), so compare models by the ratio, and read milliseconds from benchmarks/latency.py.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import sys, numpy as np, onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
so.add_session_config_entry("session.intra_op.allow_spinning", "0")
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
h, w = map(int, sys.argv[3].split("x"))
img = np.random.default_rng(0).integers(0, 256, (1, h, w, 3), dtype=np.uint8)
for _ in range(int(sys.argv[2])):
    s.run(None, {"image": img})
"""


def instructions(model: Path, runs: int, size: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        child = Path(tmp) / "child.py"
        child.write_text(_CHILD)
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
             sys.executable, str(child), str(model), str(runs), size],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise RuntimeError(f"callgrind printed no total for {model}:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=Path, help="ONNX files written by `smpvision export`")
    ap.add_argument("--size", default="512x512", help="image HxW (default 512x512)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        ap.error("valgrind is not installed (Debian: apt-get install valgrind)")
    missing = [str(m) for m in args.models if not m.is_file()]
    if missing:
        ap.error(f"no such file: {', '.join(missing)}")
    if not re.fullmatch(r"\d+x\d+", args.size):
        ap.error(f"--size must look like 512x512, not {args.size!r}")
    rows = []
    for model in args.models:
        one, three = instructions(model, 1, args.size), instructions(model, 3, args.size)
        rows.append(
            {"model": str(model), "size": args.size, "instructions_per_inference": (three - one) // 2}
        )
        print(f"{model}: {rows[-1]['instructions_per_inference'] / 1e6:.0f} M instructions per inference "
              f"at {args.size}", flush=True)  # fmt: skip
    base = rows[0]["instructions_per_inference"]
    for row in rows[1:]:
        print(f"{row['model']}: {row['instructions_per_inference'] / base:.2f}x {rows[0]['model']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
