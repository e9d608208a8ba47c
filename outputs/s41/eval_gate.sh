#!/bin/bash
# session 41: the bundled files with the runtime's bald gate (SegmenterOptions.bald_holds_no_hair) on
# renderer v13's 300 held-out scenes and both real sets; compare eval_c1.json (session 40, fp32, no gate)
# and eval_int8_real.json (this session, int8, no gate)
cd /work/main
(.venv/bin/smpvision evaluate --real ../shared/realdata --out outputs/s41/eval_gate_real.json > outputs/s41/eval_gate_real.log 2>&1) &
(.venv/bin/smpvision evaluate --model smpvision/models/smpvision-zones.int8.onnx --real ../shared/realdata --out outputs/s41/eval_gate_int8_real.json > outputs/s41/eval_gate_int8_real.log 2>&1) &
wait
echo done
