"""Batch throughput: `smpvision score` on 12-megapixel JPEGs with 2 workers, against the issue's target of
>= 10 photos/s on this 2-core machine, and the peak resident memory of the whole process tree (target
<= 1.5 GB).

    python benchmarks/batch.py [--n 100] [--workers 2] [--json outputs/batch.json]

The photos are rendered scalps (a mix of whole-head photos and close-ups, as a clinic batch has) scaled
up to 4000x3000 with sensor-like noise and saved as JPEG quality 92 (about 2 MB each, a little smaller
than a phone's 3-5 MB: upscaled renders hold less fine detail than a real photo). The run is the real
command line in a subprocess, so process start-up, model loading and the workers' spawn are counted.
Times are wall-clock on a shared machine: run it on an idle one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGET_PHOTOS_PER_S = 10.0
TARGET_RSS_GB = 1.5
SIZE = (4000, 3000)


def make_photos(folder: Path, n: int) -> list[Path]:
    import cv2
    import numpy as np
    from PIL import Image

    from smpvision.synth import render_sample

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"photo_{i:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        s = render_sample(seed=(4242, i), size=768, kind="closeup" if i % 4 == 3 else "overview")
        big = cv2.resize(s.image, SIZE, interpolation=cv2.INTER_CUBIC)
        noise = np.random.default_rng(i).normal(0, 4, big.shape)
        big = np.clip(big + noise, 0, 255).astype(np.uint8)
        Image.fromarray(big).save(path, quality=92)
    return paths


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * page
            children.setdefault(ppid, []).append(pid)
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def run(photos: list[Path], out: Path, workers: int) -> tuple[float, int, str]:
    cmd = [sys.executable, "-m", "smpvision", "score", *map(str, photos), "--out", str(out), "--force"]
    cmd += ["--workers", str(workers)]
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def watch() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss_bytes(proc.pid))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"smpvision score failed ({proc.returncode}):\n{err}")
    return seconds, peak, err.strip().splitlines()[-1] if err.strip() else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="number of 12-MP photos (start-up counts)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--photos", type=Path, default=None, help="folder to keep the photos in (reused)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.photos or Path(tmp) / "photos"
        t = time.perf_counter()
        photos = make_photos(folder, args.n)
        ready = time.perf_counter() - t
        print(f"{args.n} photos of {SIZE[0]}x{SIZE[1]} px ready in {ready:.0f} s", flush=True)
        seconds, peak, summary = run(photos, Path(tmp) / "results.jsonl", args.workers)
    rate = args.n / seconds
    result = {
        "photos": args.n,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "seconds": round(seconds, 2),
        "photos_per_s": round(rate, 2),
        "target_photos_per_s": TARGET_PHOTOS_PER_S,
        "ratio_to_target": round(rate / TARGET_PHOTOS_PER_S, 3),
        "peak_rss_gb": round(peak / 1e9, 3),
        "target_rss_gb": TARGET_RSS_GB,
        "cli_summary": summary,
    }
    print(
        f"{rate:.2f} photos/s with {args.workers} workers on {os.cpu_count()} cores "
        f"({rate / TARGET_PHOTOS_PER_S:.2f}x the {TARGET_PHOTOS_PER_S:.0f}/s target); "
        f"peak memory {peak / 1e9:.2f} GB (target <= {TARGET_RSS_GB} GB)"
    )
    print(f"  cli: {summary}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
