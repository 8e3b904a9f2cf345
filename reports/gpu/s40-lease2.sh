#!/bin/bash
# Device lease 2, session 40: CPU-trained SFT weights scored on CUDA; the default SFT re-trained on CUDA (same seed).
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu2/whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD/src
tar xJf .gpu2/payload.tar.xz
echo "== CPU-trained sft (seed 0) scored on CUDA"; date +%s
python3 - <<'PY' 2>&1 | tee -a $OUT/full.log | grep -a "^{"
import json, time
from pathlib import Path
from mathtune import config, evaluate
ecfg = config.load("evaluate"); sets = evaluate.test_sets(ecfg); t = time.perf_counter()
m = evaluate.evaluate_model(ecfg, "sft", "models/sft_cpu", sets, Path("/tmp/evcpu"))
print(json.dumps({"seconds": round(time.perf_counter() - t, 1), **m}))
PY
tar czf $OUT/evcpu.tar.gz -C /tmp/evcpu .
echo "== default sft re-trained on CUDA"; date +%s
timeout 240 python3 benchmarks/gpu_default_sft.py --out /tmp/gds2 2>&1 | tee -a $OUT/full.log | grep -a "^{"
tar czf $OUT/gds2.tar.gz -C /tmp/gds2 . ; cp models/sft/model.safetensors $OUT/sft_gpu.safetensors; date +%s
