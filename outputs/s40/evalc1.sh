#!/bin/bash
# evaluation of candidate c1 (rule outputs/s40/c1_rule.md); two lanes, latency alone at the end
set -x
cd /work/main
PY=/work/main/.venv/bin/python
O=outputs/s40
.venv/bin/smpvision export --checkpoint runs/cpu_c1z/last.pt --density-from runs/v21_rec/last.pt \
    --out $O/c1.onnx --int8 > $O/export_c1.log 2>&1 || exit 1
M=/work/main/$O/c1.onnx; M8=/work/main/$O/c1.int8.onnx
(
  cd /tmp/v12code && PYTHONPATH=/tmp/v12code $PY -m smpvision evaluate --model $M --out /work/main/$O/eval_c1_r12.json > /work/main/$O/eval_c1_r12.log 2>&1
  cd /tmp/v12code && PYTHONPATH=/tmp/v12code $PY -m smpvision evaluate --model $M8 --out /work/main/$O/eval_c1_int8_r12.json > /work/main/$O/eval_c1_int8_r12.log 2>&1
) &
(
  $PY benchmarks/skin_compare.py $M --n 600 --tag 6410 --json $O/skin_compare_c1.json > $O/skin_compare_c1.log 2>&1
  .venv/bin/smpvision evaluate --model $M --real ../shared/realdata --out $O/eval_c1.json > $O/eval_c1.log 2>&1
) &
wait
$PY benchmarks/latency.py --model $M --out $O/latency_c1.json > $O/latency_c1.log 2>&1
$PY benchmarks/latency.py --out $O/latency_v21_s40.json > $O/latency_v21_s40.log 2>&1
echo done
