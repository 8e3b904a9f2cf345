"""The sft stage: (Q)LoRA supervised fine-tuning with TRL's SFTTrainer on a weighted data mix.

The mix draws from seven sources, each scaled by its `sft.mix.<source>` weight (0 drops it, 0.5 keeps
a seeded half, 2 repeats it twice): GSM8K train CoT, puzzle train, the dual stage's IRSP and IR
instances, replayed generic arithmetic (`arithmetic.corpus`, the base's pre-training calculations over
its `base.arithmetic_small` range, as many as there are train puzzles, drawn with the sft seed), and
one-shot chats (`one_shot`: a train puzzle answered after another one as an earlier turn, so the model
can read the demonstration that mining's one-shot filter shows it; without them it answered 0 of 419
such prompts, README), and single steps (`sub_steps`: each gold unwind step under the prompt of the
sub-puzzle it starts, as many as there are train puzzles; scoring stays one generation a puzzle), and list
items (`lists`: `list_item`, named operands taken from a list of 1-7 numbers with the numbers left
written after each step, so the model copies lists of any length and value; as many as there are train
puzzles). So each
arm of the dual-tuning ablation is one `dvc exp run -S sft.mix.irsp=0 ...`. Mined data comes later:
the mining stage mines this model and goes on fine-tuning it (Self-Error-Instruct's target model is
a tuned one). Records are prompt/completion pairs, so TRL puts the loss on completion tokens only.
On CUDA `sft.load_in_4bit` loads the base in nf4 (QLoRA, bf16 compute).
Checkpoints go to checkpoints/sft and a killed run resumes from the last one.
Run with `dvc repro sft`.
"""
from __future__ import annotations

import random

from mathtune import answers, arithmetic, io, models, protocol, tuning

# new sources go last: the others keep their draws (`mining`, 0 items in every default run, left in session 11)
SOURCES = ("gsm8k", "puzzles", "irsp", "ir", "arithmetic", "one_shot", "sub_steps", "lists")


def one_shot(puzzle_items: list[dict], seed: int) -> list[dict]:
    """Train puzzle idx as the second question of a chat whose first turn is another train puzzle, answered
    (protocol.one_shot_messages, as mining's filter builds it); the loss falls on the second answer."""
    out = []
    for idx, item in enumerate(puzzle_items):
        rng = random.Random(f"{seed}:one_shot:{idx}")  # per-item RNG
        demo = puzzle_items[(idx + rng.randrange(1, len(puzzle_items))) % len(puzzle_items)]
        out.append({"id": f"one_shot/{idx}", "source": "puzzles", "task": "one_shot", "completion": item["completion"],
                    "prompt": protocol.one_shot_messages(demo["prompt"], demo["completion"], item["prompt"])})
    return out


def build_mix(cfg, sources: dict[str, list[dict]]) -> tuple[list[dict], dict]:
    """Records of each source scaled by its mix weight, shuffled with the stage seed; and counts."""
    rng = random.Random(cfg.seed)
    mix, counts = [], {}
    for name in SOURCES:
        weight, items = getattr(cfg, f"mix_{name}"), sources.get(name, [])
        if weight < 0:
            raise ValueError(f"params sft.mix.{name}: must be >= 0, got {weight}")
        whole, part = int(weight), weight - int(weight)
        chosen = items * whole + rng.sample(items, round(part * len(items)))
        counts[f"mix/{name}"] = len(chosen)
        mix += chosen
    if not mix:
        raise ValueError("the SFT mix is empty: every sft.mix weight is 0 or its source has no data")
    rng.shuffle(mix)
    return mix, counts


def train(cfg, records: list[dict], out_dir, base: str = models.LOCAL) -> dict:
    """LoRA-train `base` on records (resumable from checkpoints/sft); save the adapter to out_dir."""
    return tuning.train_sft(cfg, records, out_dir, base, stage="sft")


def sub_prompt(goal: str, listed: str, prompt: str = protocol.PUZZLE_PROMPT) -> str:
    """The puzzle an unwind step leaves: make its result `goal` from the integers it lists (`listed`, space
    separated as in the trace's brackets); a whole puzzle's prompt is the same for its target and sorted integers."""
    return prompt.format(target=goal, numbers=", ".join(listed.split()))


def single_steps(record: dict, prompt: str = protocol.PUZZLE_PROMPT) -> list[dict]:
    """A train puzzle's gold `unwind` answer as one example per step, each under the prompt of the sub-puzzle it
    starts: `48-3=45 [2 15 15]` leaves "Make 45 from 2, 15, 15.". [] for an answer that is not a goal chain (the
    other traces; ~2 % of N = 4 puzzles have no chain solution and keep the forward trace)."""
    parts, parsed = [p.strip() for p in record["completion"].split(", ")], answers.steps(record["completion"])
    if len(parsed) != len(parts) or any(x is None or x[4] is None for x in parsed):
        return []
    goal, listed, out = str(record["target"]), " ".join(map(str, sorted(record["numbers"]))), []
    for j, (part, (a, op, b, c, left)) in enumerate(zip(parts, parsed)):
        last = j == len(parts) - 1
        if (last and (c != goal or left.strip())) or (not last and goal not in (a, b)):
            return []  # not a chain: the goal is not carried from step to step
        out.append({**record, "id": f"{record['id']}/step{j}", "completion": part,
                    "prompt": sub_prompt(goal, listed, prompt)})
        goal, listed = c, left
    return out


def sub_steps(puzzle_items: list[dict], seed: int, size: int | None = None) -> list[dict]:
    """`size` (default: as many as there are train puzzles) single-step sub-puzzle examples, a seeded draw from
    all of them (benchmarks/recursion_probe.py: beside whole answers they lifted one-generation in-domain pass@1
    on fresh puzzles, docs/sessions.md "Session 36")."""
    if any("hints" in item for item in puzzle_items):  # a sub-puzzle's prompt would lose the letters
        raise ValueError("sft.mix.sub_steps > 0 needs puzzles.hints: 0")
    steps = [ex for item in puzzle_items for ex in single_steps(item)]
    if not steps:
        raise ValueError("sft.mix.sub_steps > 0 needs goal-chain answers (puzzles.trace: unwind); "
                         "data/puzzles/train.jsonl has none")
    return random.Random(seed).sample(steps, min(len(steps), len(puzzle_items) if size is None else size))


def list_item(idx: int, seed: int, max_steps: int) -> dict:
    """List item idx: 1-7 listed integers, 1-`max_steps` steps (no more than the list holds) each taking a named
    one; after each step the sorted numbers left, as the puzzle traces write them (`Start at 90. With 4, 27, 30,
    46, 58: subtract 27, then multiply by 4.` -> `90-27=63 [4 30 46 58], 63*4=252 [30 46 58]`). No target, no
    search: not a puzzle. Operands as the base corpus draws them (`arithmetic.operand`, range 20:
    benchmarks/pick_probe.py's items since session 30)."""
    rng = random.Random(f"{seed}:list:{idx}")  # per-item RNG
    numbers = [arithmetic.operand(rng) for _ in range(rng.randint(1, 7))]
    start = cur = arithmetic.operand(rng)
    pool, said, out = list(numbers), [], []
    for _ in range(rng.randint(1, min(max_steps, len(numbers)))):
        x = rng.choice(pool)
        op = rng.choice(["+", "-", "x-", "*", "/"])
        if op == "*" and abs(cur * x) > arithmetic.MAX_PRODUCT or op == "/" and (x == 0 or cur % x):
            op = "+"  # no long products, division only when exact
        pool.remove(x)
        a, b = (x, cur) if op == "x-" else (cur, x)
        c = answers._apply(a, op[-1], b)  # the verifier's arithmetic; exact here (division checked above)
        said.append({"+": f"add {x}", "-": f"subtract {x}", "x-": f"subtract it from {x}", "*": f"multiply by {x}",
                     "/": f"divide by {x}"}[op])
        out.append(f"{a}{op[-1]}{b}={c} [{' '.join(map(str, sorted(pool)))}]")
        cur = c
    return {"id": f"list/{idx}", "source": "arithmetic", "task": "calc", "answer": cur, "completion": ", ".join(out),
            "prompt": f"Start at {start}. With {', '.join(map(str, numbers))}: {', then '.join(said)}."}


def lists(size: int, seed: int, max_steps: int) -> list[dict]:
    """`size` list items, list_item 0..size-1 (issue 14's copy lever: the SFT model copies lists of any length
    and value; on 300 fresh items a set, with the replay, ood_range 13/300 vs 0/300, docs/sessions.md "Session 38").
    `max_steps` > 3 (`sft.list_steps`) lets a chain go on until its list is empty, so the model sees answers of
    four steps and more without a puzzle of five integers (docs/sessions.md "Session 43"). No default: a caller
    that left it out built 1-3-step items whatever `sft.list_steps` said (session 43's probe; "Session 44")."""
    if max_steps < 1:
        raise ValueError(f"params sft.list_steps: expected 1 or more steps a list item, got {max_steps}")
    return [list_item(i, seed, max_steps) for i in range(size)]


def replay(size: int, seed: int) -> list[dict]:
    """`size` generic calculations drawn as the base's pre-training corpus draws them (its operand range,
    `base.arithmetic_small`), with the sft seed: a pretrained LM keeps its arithmetic through fine-tuning."""
    from mathtune import config
    return arithmetic.corpus(size, seed, config.load("base").arithmetic_small)


def stage(cfg) -> dict:
    """`dvc repro sft`: models/sft (LoRA adapter) from the mix of all training sources."""
    from mathtune import gsm8k
    sources = {"gsm8k": gsm8k.load(io.path("data/gsm8k/train.jsonl")),
               "puzzles": io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("prompt", "completion")),
               "irsp": io.read_jsonl(io.path("data/dual/irsp.jsonl"), required=("prompt", "completion")),
               "ir": io.read_jsonl(io.path("data/dual/ir.jsonl"), required=("prompt", "completion"))}
    sources["arithmetic"] = replay(len(sources["puzzles"]), cfg.seed) if cfg.mix_arithmetic else []
    sources["one_shot"] = one_shot(sources["puzzles"], cfg.seed) if cfg.mix_one_shot else []
    sources["sub_steps"] = sub_steps(sources["puzzles"], cfg.seed) if cfg.mix_sub_steps else []
    sources["lists"] = lists(len(sources["puzzles"]), cfg.seed, cfg.list_steps) if cfg.mix_lists else []
    records, counts = build_mix(cfg, sources)
    return {**counts, **train(cfg, records, io.path("models/sft"))}
