"""Scratch: which true classes are the pixels the skin reader reads (colour._skin_candidates on bald), per model?
Whole-head renders, tuning seeds (6409, i); session 40: v2.1 against version 3, 384 px; only photos where the reader answers."""
import os, sys
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, "/work/main")
import cv2, numpy as np
from smpvision.analysis import colour as C
from smpvision.synth import render_sample
from smpvision.segmenter import Segmenter, SegmenterOptions
n = int(sys.argv[1])
segs = {"v2.1": Segmenter.from_path("/tmp/v21.onnx", options=SegmenterOptions(threads=1)),
        "v3": Segmenter.from_path(None, options=SegmenterOptions(threads=1))}
tot = {k: np.zeros(5) for k in segs}; photos = {k: 0 for k in segs}; nobald = {k: 0 for k in segs}
for i in range(n):
    s = render_sample((6409, i), 384, kind="overview")
    for k, seg in segs.items():
        z = seg.segment(s.image, view_kind="overview").zones
        if C.skin_tone(s.image, z, None, view="overview") is None:
            continue
        img = cv2.GaussianBlur(C._as_float(s.image), (0, 0), max(0.8, 384 / 400))
        mask, _ = C._skin_candidates(img, z, ((C.BALD,),))
        photos[k] += 1
        nobald[k] += (s.zones == 3).mean() < 0.02
        for c in range(5):
            tot[k][c] += (mask & (s.zones == c)).sum()
for k in segs:
    f = tot[k] / tot[k].sum()
    print(f"{k:7s} photos read {photos[k]} (true bald < 2 % of frame: {nobald[k]}); read pixels by true class: background {f[0]:.2f} hair {f[1]:.2f} thinning {f[2]:.2f} bald {f[3]:.2f} scar {f[4]:.2f}")
