#!/bin/bash
# session 41: the re-quantized int8 file (stems in float, serving softmax as element-wise ops) on the
# same sets as version 3's int8 file (outputs/s40/eval_c1_int8_r12.json, eval_c1_int8_real.json)
set -x
cd /work/main
PY=/work/main/.venv/bin/python
O=outputs/s41
M8=/work/main/$O/cand.int8.onnx
(cd /tmp/v12code && PYTHONPATH=/tmp/v12code $PY -m smpvision evaluate --model $M8 --out /work/main/$O/eval_int8_r12.json > /work/main/$O/eval_int8_r12.log 2>&1) &
(.venv/bin/smpvision evaluate --model $M8 --real ../shared/realdata --out $O/eval_int8_real.json > $O/eval_int8_real.log 2>&1) &
wait
echo done
