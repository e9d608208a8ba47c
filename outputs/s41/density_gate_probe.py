"""Scratch (session 41): would scaling whole-head density by the zones help the count? On tuning
overviews (6412, i): density x (p_bg + p_hair + c_t p_thinning + c_b p_bald + p_scar), a grid of
(c_t, c_b); median count error over the photos (training.metrics.count_error)."""
import sys

import numpy as np

sys.path.insert(0, "/work/main")
from smpvision.segmenter import Segmenter, SegmenterOptions  # noqa: E402
from smpvision.synth import render_sample  # noqa: E402
from training.metrics import count_error  # noqa: E402

tag, n = int(sys.argv[1]), int(sys.argv[2])
seg = Segmenter.from_path(None, SegmenterOptions(threads=2))
data = []
for i in range(n):
    s = render_sample((tag, i), size=384, kind="overview")
    r = seg.segment(s.image, view_kind="overview")
    d = r.density
    p = r.zones_prob
    data.append((float(len(s.hairs)), float(d.sum()), float((d * p[2]).sum()), float((d * p[3]).sum())))
t, total, thin, bald = map(np.array, zip(*data))
rest = total - thin - bald
for ct in (1.0, 0.8, 0.6, 0.4):
    line = []
    for cb in (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0):
        pred = rest + ct * thin + cb * bald
        line.append(f"{np.median([count_error(a, b) for a, b in zip(pred, t)]):.3f}")
    print(f"c_t {ct}: c_b 1, .5, .3, .2, .1, .05, 0 -> {' '.join(line)}")
