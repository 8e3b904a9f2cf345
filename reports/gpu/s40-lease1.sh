#!/bin/bash
# Device lease, session 40: the CUDA path of mathtune on one H200 (copied into docs/sessions.md).
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 3
export PYTHONPATH=/tmp/site:$PWD/src
tar xzf .gpu/payload.tar.gz
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch,transformers,trl,peft,bitsandbytes,datasets,accelerate; print('versions', torch.__version__, transformers.__version__, trl.__version__, peft.__version__, bitsandbytes.__version__, accelerate.__version__, datasets.__version__, torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported())" || exit 4
echo "== gpu_check on the embedded base (models/base, trained weights)"; date +%s
timeout 150 python3 benchmarks/gpu_check.py --model models/base --steps 30 --out $OUT/base_check 2>&1 | tee -a $OUT/full.log | grep -v -E "it/s\]|s/it\]|^\s*$"
echo "== gpu_check on SmolLM2-135M's config and tokenizer, random bf16 weights"; date +%s
python3 - <<'PY'
import shutil, torch
from transformers import AutoConfig, AutoModelForCausalLM
torch.manual_seed(0)
m = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(".gpu/smol"), dtype=torch.bfloat16)
m.save_pretrained("/tmp/smol")
for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
    shutil.copy(f".gpu/smol/{f}", "/tmp/smol/")
print("smol params", sum(p.numel() for p in m.parameters()))
PY
timeout 180 python3 benchmarks/gpu_check.py --model /tmp/smol --steps 30 --out $OUT/smol_check 2>&1 | tee -a $OUT/full.log | grep -v -E "it/s\]|s/it\]|^\s*$"
echo "== the default sft stage on CUDA, then base and sft evaluated"; date +%s
timeout 300 python3 benchmarks/gpu_default_sft.py --out /tmp/gds 2>&1 | tee -a $OUT/full.log | grep -v -E "it/s\]|s/it\]|^\s*$" | tail -40
tar czf $OUT/gds.tar.gz -C /tmp/gds . ; date +%s
