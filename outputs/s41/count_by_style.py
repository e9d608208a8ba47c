"""Scratch (session 41): where the rendered whole-head count error comes from. 150 overviews of a
tuning seed tag (6412, i), the bundled model through Segmenter (as evaluate does), predicted / true
hair count by hair style and by loss pattern."""
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, "/work/main")
from smpvision.segmenter import Segmenter, SegmenterOptions  # noqa: E402
from smpvision.synth import render_sample  # noqa: E402
from training.metrics import count_error  # noqa: E402

seg = Segmenter.from_path(None, SegmenterOptions(threads=2))
rows = []
for i in range(150):
    s = render_sample((6412, i), size=384, kind="overview")
    r = seg.segment(s.image, view_kind="overview")
    true = float(len(s.hairs))
    rows.append((s.meta["hair"]["style"], s.meta["pattern"], true, float(r.hair_count), count_error(float(r.hair_count), true)))
by = defaultdict(list)
for style, pattern, true, pred, err in rows:
    by[f"style {style}"].append((true, pred, err))
    by[f"pattern {pattern}"].append((true, pred, err))
    by["all"].append((true, pred, err))
for k in sorted(by):
    t, p, e = map(np.array, zip(*by[k]))
    ok = t > 0
    ratio = np.median(p[ok] / t[ok]) if ok.any() else float("nan")
    r = np.corrcoef(t, p)[0, 1] if len(t) > 2 and np.ptp(t) > 0 else float("nan")
    print(f"{k:28s} n {len(t):3d}  median error {np.median(e):5.1%}  median pred/true {ratio:5.2f}  r {r:5.2f}  mean true {t.mean():7.0f}")
