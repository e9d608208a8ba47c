#!/bin/bash
# session 41: benchmarks/latency.py on the re-exported files (outputs/s41/cand*.onnx) and the shipped
# version-3 files (SHIP=…; rounds 1-2 ran while they were still bundled), alternated, nothing else running
cd /work/main
for r in ${ROUNDS:-1 2}; do
  .venv/bin/python benchmarks/latency.py --model outputs/s41/cand.onnx --out outputs/s41/latency_cand_r$r.json > outputs/s41/latency_cand_r$r.log 2>&1
  .venv/bin/python benchmarks/latency.py --model ${SHIP:-smpvision/models/smpvision-zones.onnx} --out outputs/s41/latency_ship_r$r.json > outputs/s41/latency_ship_r$r.log 2>&1
done
echo done
