#!/bin/bash
# issue-4 benchmarks with the newly bundled model c1 (default --model = the bundled file); two lanes
set -x
cd /work/main
PY=/work/main/.venv/bin/python
O=outputs/s40
(
  $PY benchmarks/real_gate.py --real ../shared/realdata --json $O/real_gate_c1.json > $O/real_gate_c1.log 2>&1
  $PY benchmarks/view_detection.py --real ../shared/realdata --json $O/view_detection_c1.json > $O/view_detection_c1.log 2>&1
  $PY benchmarks/walls.py --json $O/walls_c1.json > $O/walls_c1.log 2>&1
) &
(
  $PY benchmarks/skin_tone.py --json $O/skin_tone_c1.json > $O/skin_tone_c1.log 2>&1
  $PY benchmarks/areata.py > $O/areata_c1.log 2>&1
  $PY benchmarks/client_colour.py --clients 100 --json $O/client_colour_c1.json > $O/client_colour_c1.log 2>&1
  .venv/bin/smpvision evaluate --model smpvision/models/smpvision-zones.int8.onnx --rendered 0 --real ../shared/realdata --out $O/eval_c1_int8_real.json > $O/eval_c1_int8_real.log 2>&1
) &
wait
echo done
