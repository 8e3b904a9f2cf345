"""Two model folders paired on held-out puzzles: the DPO probe's validation set (none in train or test)
and two fresh in-domain sets drawn as the test set is (puzzles seeds 7 and 8), by N and, for the fresh
sets, on the puzzles not in train. Session 15 chose the state trace with it (README "Session 15");
about 10 minutes on 2 cores. Prints markdown rows and writes the per-item bits to OUT (JSON).

    python benchmarks/heldout_pair.py models/sft <other model folder> OUT
"""
import json, sys
sys.path.insert(0, "benchmarks")  # run from the repo root, as every benchmark
from dpo_probe import greedy, validation
from mathtune import config, io, puzzles, stats
cfg = config.load("puzzles")
train = {(tuple(r["numbers"]), r["target"]) for r in io.read_jsonl(io.path("data/puzzles/train.jsonl"))}
sets = {"validation": validation(500)}
split = puzzles.splits(cfg)[0]
for seed in (7, 8):
    items, seen = [], set()
    for key, line in puzzles._chunk((split, cfg.ops, cfg.bound, cfg.trace, seed, 0, 1000)):
        if key not in seen and len(items) < 500:
            seen.add(key); items.append(json.loads(line))
    sets[f"fresh{seed}"] = items
models = dict(a=sys.argv[1], b=sys.argv[2])
res = {}
for name, items in sets.items():
    ra = greedy(models["a"], items); rb = greedy(models["b"], items)
    res[name] = (ra, rb)
    def line(label, idx):
        x = [ra[i] for i in idx]; y = [rb[i] for i in idx]; p = stats.paired(x, y)
        print(f"| {name} | {label} | {len(idx)} | {sum(x)} | {sum(y)} | {p['a']:.3f} [{p['a_ci'][0]:.3f}, {p['a_ci'][1]:.3f}] | {p['b']:.3f} [{p['b_ci'][0]:.3f}, {p['b_ci'][1]:.3f}] | {p['only_a']} / {p['only_b']} | {p['p']:.2g} |", flush=True)
    line("all", range(len(items)))
    for n in (3, 4):
        line(f"N={n}", [i for i, it in enumerate(items) if len(it["numbers"]) == n])
    if name != "validation":
        line("not in train", [i for i, it in enumerate(items) if (tuple(it["numbers"]), it["target"]) not in train])
json.dump({k: [list(map(bool, v[0])), list(map(bool, v[1]))] for k, v in res.items()}, open(sys.argv[3], "w"))
