"""The one protocol place: prompt templates, stop strings, answer-extraction regexes, generation settings.

Every stage that builds a prompt, cuts a generation or extracts an answer reads it from here, so a
change of protocol is one diff, and `PROTOCOL_VERSION` (recorded in each stage's metrics) says which
protocol produced a number. Pure Python: no torch.
"""
from __future__ import annotations

PROTOCOL_VERSION = "2"  # 2: the short puzzle prompt (45.6 tokens per example against 65.6 for version 1)

# --- chat format of the embedded (`local`) model. A Hugging Face model uses its own chat template.
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'user' %}<|user|>\n{{ m['content'] }}\n"
    "{% elif m['role'] == 'assistant' %}<|assistant|>\n{{ m['content'] }}<|eos|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>", "<MASK>"]
MASK = "<MASK>"

# --- GSM8K chain of thought (zero-shot; the answer ends with GSM8K's own `#### N` line)
GSM8K_PROMPT = "Solve the problem step by step. End with '#### <answer>'.\n{question}"

# --- arithmetic puzzles (arXiv 2406.02100): a symbolic prompt, answer = N-1 steps `a op b = c`.
# Short on purpose: on 2 CPU cores the embedded model's fine-tuning budget is counted in tokens, and
# version 1's "Use each of the integers ... exactly once with + - * / to make T." cost 44 % more per
# example (benchmarks/base_diagnosis.py: 65.6 against 45.6 tokens, steps trace).
PUZZLE_PROMPT = "Make {target} from {numbers}."

# --- dual instruction tuning (arXiv 2403.18295)
IRSP_GSM8K_PROMPT = (
    "Fill in the masked step of the solution.\nQuestion: {question}\nSolution:\n{solution}"
)
IR_GSM8K_PROMPT = (
    "Reconstruct the masked number of the question from its solution.\n"
    "Question: {question}\nSolution:\n{solution}"
)
IRSP_PUZZLE_PROMPT = (
    "Fill in the masked step. Integers: {numbers}. Target: {target}.\nSteps: {solution}"
)
IR_PUZZLE_PROMPT = (
    "Reconstruct the masked value of the puzzle from its steps.\n"
    "Integers: {numbers}. Target: {target}.\nSteps: {solution}"
)


def prompt_texts() -> list[str]:
    """The fixed wording of every prompt template (placeholders removed), for training a tokenizer."""
    import re
    templates = [v for k, v in globals().items() if k.endswith("_PROMPT") and isinstance(v, str)]
    # repeated so BPE sees each phrase as often as a common word of the corpus and merges it
    return [re.sub(r"\{\w+\}", "", t) for t in templates] * 20


# --- one-shot demonstration (mining's filter): the demo is an earlier user/assistant turn of the same
# chat, as lm-evaluation-harness's --fewshot_as_multiturn, so every model sees its own chat format
def one_shot_messages(demo_prompt: str, demo_completion: str, prompt: str) -> list[dict]:
    return [{"role": "user", "content": demo_prompt}, {"role": "assistant", "content": demo_completion},
            {"role": "user", "content": prompt}]


# --- error keyphrases written by an instructor model (mining.instructor = a HF id or path): the
# paper's GPT-4o role. Its reply is parsed by instructor.parse_keyphrases (comma/semicolon/line separated).
INSTRUCTOR_PROMPT = (
    "A student answered a math problem wrongly.\nProblem: {question}\nCorrect solution: {gold}\n"
    "Student's answer: {output}\nDescribe the student's error in 2 to 4 short keyphrases, "
    "separated by commas. Reply with the keyphrases only."
)

# --- stop strings: generation is cut at the first of these (after EOS)
STOP = {
    "gsm8k": ["\n\n", "Question:", "<|user|>"],
    "puzzles": ["\n", "<|user|>"],
    "instructor": ["\n\n"],
}

# --- answer extraction, as lm-evaluation-harness's gsm8k task
GSM8K_STRICT_REGEX = r"#### (\-?[0-9\.\,]+)"
GSM8K_FLEXIBLE_REGEX = r"(-?[$0-9.,]{2,})|(-?[0-9]+)"
GSM8K_IGNORE = [",", "$"]  # stripped before comparison, as is a trailing "."

# --- generation settings (the stages' params pick max_new_tokens / batch size; these are the fixed parts)
GREEDY = {"do_sample": False}
MAX_NEW_TOKENS = {"gsm8k": 256, "puzzles": 64, "instructor": 48}
