"""The results tables of `make figures`, from the cache: runs from `dvc exp show`, cells with intervals.

`experiments()` reads `dvc exp show --json` (the workspace, its commit and every experiment) into one
row per run (flat params and metrics); `results_table(rows)` writes every number with its model, data
sizes, protocol, machine and commit, plus the paired McNemar table from the workspace's per-item
predictions (`paired_table`). figures.py draws the paper figures from the same rows and puts the
table into reports/results.md and the README.

DVC keeps experiments as local git refs (`refs/exps`) and their outputs in the local cache: a fresh
clone has neither. So every finished experiment `make figures` sees is also written to git-tracked
`reports/experiments/<name>.json` (params, metrics, commit, baseline) with the per-item right/wrong bits
of its models and of its baseline's (`reports/experiments/predictions/<rev>.json`): the tables of a
later clone re-read them and pair them as before. `reports/experiments/archive.md` holds the rows of
experiments that were lost before records existed, as `make figures` last printed them.

    rows = tables.experiments(); print(tables.results_table(rows))
"""
from __future__ import annotations

import functools
import json
import statistics
import subprocess
import sys
from pathlib import Path

from mathtune import io, stats

SETS = ["in_domain", "ood_range", "ood_components"]
RECORDS = "reports/experiments"
MINED = "mined_types"  # the mining stage's held-out puzzles per error type (evaluate.MINED)
ALL_SETS = ["gsm8k"] + SETS + [MINED]  # every test set a run may have scored, in table order
MODELS = ("base", "sft", "mining", "dpo")
PAPER_PUZZLES = {"in_domain": 0.44, "ood_range": 0.33, "ood_components": 0.35}  # open-llama-3B, 100M puzzles


def _flat(d: dict, pre: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{pre}{k}."))
        else:
            out[f"{pre}{k}"] = v
    return out


def dvc_cmd() -> str:
    """The project's own dvc, also when PATH lacks .venv/bin."""
    dvc = Path(sys.executable).parent / "dvc"
    return str(dvc) if dvc.exists() else "dvc"


def experiments() -> list[dict]:
    """One row per run DVC knows: name, rev, flat params ('sft.mix.irsp') and flat metrics ('evaluate.sft/...')."""
    # experiments hang off the commit whose dvc.lock they started from, which may be older than HEAD
    # (later commits may touch only docs or code that changes no output): look at every commit (-A;
    # "-n 20" lost session 6's experiments three commits after session 8's), and keep the workspace
    # and the experiments, not the commits themselves (old results live there)
    out = subprocess.run([dvc_cmd(), "exp", "show", "--json", "-A"],
                         cwd=io.root(), capture_output=True, text=True)
    runs = json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else []
    rows = []

    def add(rev: dict, name: str, baseline: str | None = None):
        data = rev.get("data") or {}
        params = _flat((data.get("params") or {}).get("params.yaml", {}).get("data"))
        metrics = {}
        for path, m in (data.get("metrics") or {}).items():
            metrics.update(_flat(m.get("data"), Path(path).stem + "."))
        if any(k.startswith("evaluate.") for k in metrics):  # runs that got as far as evaluation
            rows.append({"name": name, "rev": rev.get("rev", "")[:10], "params": params, "metrics": metrics,
                         "commit": rev.get("rev"), "baseline": baseline})

    baselines = {}  # rev -> the commit entry experiments started from
    for run in runs:
        if run.get("rev") == "workspace":
            add(run, "workspace")
        for exp in run.get("experiments") or []:
            # queued/running: partial metrics; failed (or killed): its commit holds the baseline's metrics
            if (exp.get("executor") or {}).get("state") in ("queued", "running", "failed"):
                continue
            # an experiment is compared with the commit it started from (its baseline), not with HEAD
            add(exp["revs"][0], exp.get("name") or exp["revs"][0].get("rev", "")[:10], baseline=run.get("rev"))
            if run.get("rev") != "workspace":
                baselines.setdefault(run.get("rev"), run)
    for run in baselines.values():  # a default the experiments started from: a sweep's point once the default moved on
        add(run, f"commit {run.get('rev', '')[:7]}")
    live = {r["name"] for r in rows}
    for r in rows:
        if r.get("baseline"):
            record(r)
    for f in sorted(io.path(RECORDS).glob("*.json")):  # experiments of earlier clones, kept in git
        r = io.read_json(f)
        if r["name"] not in live:
            rows.append(r)
    if not any(r["name"] == "workspace" for r in rows):  # no git/DVC history: the workspace's metrics files alone
        metrics = {}
        for f in sorted(io.path("metrics").glob("*.json")):
            metrics.update(_flat(json.loads(f.read_text()), f.stem + "."))
        rows.insert(0, {"name": "workspace", "rev": "", "params": {}, "metrics": metrics})
    # the workspace usually repeats its commit: keep the first of identical metric sets
    seen, unique = set(), []
    for r in rows:
        key = json.dumps(r["metrics"], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def scores(row: dict, model: str) -> dict:
    m = row["metrics"]
    s = {t: m.get(f"evaluate.{model}/puzzles/{t}/pass@1") for t in SETS}
    s["gsm8k"] = m.get(f"evaluate.{model}/gsm8k/strict")
    return s


def metric_key(model: str, test_set: str) -> str:
    """The evaluate metric holding a model's score on a test set (GSM8K: lm-eval's strict match)."""
    return f"evaluate.{model}/gsm8k/strict" if test_set == "gsm8k" else f"evaluate.{model}/puzzles/{test_set}/pass@1"


def interval(row: dict, model: str, test_set: str) -> tuple:
    """The 95 % Wilson interval of a score, (None, None) where absent. Recomputed from the score and its
    item count where the metrics have the count: the stored bounds are rounded to 4 decimals, and
    0.1205 printed 0.120 here against 0.121 in the paired table, which counts the items."""
    key, m = metric_key(model, test_set), row["metrics"]
    n = m.get(key.rsplit("/", 1)[0] + "/n")
    if n and m.get(key) is not None:
        return stats.wilson(round(m[key] * n), n)
    return m.get(f"{key}_ci95_low"), m.get(f"{key}_ci95_high")


def _cell(row: dict, model: str, test_set: str) -> str:
    """`0.044 [0.028, 0.068]`: the score with its 95 % Wilson interval where the metrics have it."""
    key, m = metric_key(model, test_set), row["metrics"]
    if m.get(key) is None:
        return "—"
    lo, hi = interval(row, model, test_set)
    return f"{m[key]:.3f}" + ("" if lo is None else f" [{lo:.3f}, {hi:.3f}]")


def predictions(model: str, test_set: str, rev: str | None = None) -> list[dict] | None:
    """A model's per-item predictions on a test set: the workspace's file, or the cached one of a commit or
    experiment `rev` (dvc.api); None where that run has none."""
    path = f"data/predictions/{model}/{test_set}.jsonl"
    if rev is None or rev == "workspace":
        f = io.path(path)
        return io.read_jsonl(f) if f.is_file() else None
    text = _read_at(str(io.root()), path, rev)
    if text is not None:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return _recorded(model, test_set, rev)


def result_field(test_set: str) -> str:
    """The per-item field that says an answer is right: GSM8K's strict match, a puzzle's verifier result."""
    return "strict" if test_set == "gsm8k" else "correct"


def _recorded(model: str, test_set: str, rev: str) -> list[dict] | None:
    """Per-item results of a run from its git-tracked record (a clone without that run's DVC cache)."""
    f = io.path(f"{RECORDS}/predictions/{rev}.json")
    if not f.is_file():
        return None
    rec = io.read_json(f)
    return record_rows(rec, model, test_set) if rec["ids"].get(test_set) is not None else None


def record_rows(rec: dict, model: str, test_set: str) -> list[dict] | None:
    """A model's per-item results on one set from a record of per-item bits ({id, correct or strict}); a record
    without ids (a replicate's: data/predictions order) numbers its items 0, 1, ... None where it has none."""
    bits = rec["correct"].get(model, {}).get(test_set)
    if bits is None:
        return None
    ids = rec.get("ids", {}).get(test_set) or range(len(bits))
    return [{"id": i, result_field(test_set): b == "1"} for i, b in zip(ids, bits)]


def per_item_bits(read) -> tuple[dict, dict]:
    """ids[set] and correct[model][set] ('1'/'0' an item; GSM8K strict) of the models and sets `read(model, set)`
    returns per-item results for: the per-item part of a record (record_rows reads it back)."""
    ids, correct = {}, {}
    for t in ALL_SETS:
        for m in MODELS:
            preds = read(m, t)
            if preds:
                if ids.setdefault(t, [p["id"] for p in preds]) != [p["id"] for p in preds]:
                    raise ValueError(f"{m} scored other {t} items than another model of the same run")
                correct.setdefault(m, {})[t] = "".join("1" if p[result_field(t)] else "0" for p in preds)
    return ids, correct


def record(row: dict) -> None:
    """Write an experiment's row and the per-item bits of its run and its baseline into git-tracked files
    (kept where already written: a commit's results never change)."""
    for rev in (row["commit"], row["baseline"]):
        f = io.path(f"{RECORDS}/predictions/{rev}.json")
        if f.is_file():
            continue
        ids, correct = per_item_bits(lambda m, t: predictions(m, t, rev))
        if ids:
            # one line: 53 kB a run, 64 indented
            io.write_text(f, json.dumps({"rev": rev, "ids": ids, "correct": correct}, sort_keys=True) + "\n")
    io.write_json(io.path(f"{RECORDS}/{row['name']}.json"), row)


@functools.lru_cache(maxsize=None)
def _read_at(repo: str, path: str, rev: str) -> str | None:
    """A file's text at a commit or experiment, from the DVC cache. Memoised: a commit's content never
    changes, and the experiment and seed tables read the same baselines and runs again (~1 s a read)."""
    import dvc.api
    from dvc.exceptions import DvcException
    from dvc_data.index.index import DataIndexDirError
    try:
        return dvc.api.read(path, repo=repo, rev=rev)
    # a run that did not evaluate this model or set, or (DataIndexDirError) one whose outputs this clone's
    # cache lacks: a new checkout has only its own runs; the caller falls back to the git-tracked record
    except (DvcException, FileNotFoundError, DataIndexDirError):
        return None


def pair_line(label: str, t: str, ra: list[dict] | None, rb: list[dict] | None) -> str | None:
    """One row of a paired table; None unless both runs scored the same items."""
    if not ra or not rb or [r["id"] for r in ra] != [r["id"] for r in rb]:
        return None
    field = result_field(t)
    out = stats.paired([r[field] for r in ra], [r[field] for r in rb])
    ci = [f"{out[k]:.3f} [{out[k + '_ci'][0]:.3f}, {out[k + '_ci'][1]:.3f}]" for k in ("a", "b")]
    return f"| {label} | {t} | {out['n']} | {ci[0]} | {ci[1]} | {out['only_a']} | {out['only_b']} | {out['p']:.3g} |"


PAIRED_HEAD = ["| comparison | test set | n | A | B | only A right | only B right | McNemar p |",
               "|---|---|---|---|---|---|---|---|"]


def paired_table(pairs=(("base", "sft"), ("sft", "mining"), ("mining", "dpo"), ("sft", "dpo"))) -> str:
    """Markdown: two models on the same items of each test set, with the exact McNemar p-value.

    Read from the workspace's per-item predictions (data/predictions/<model>/<set>.jsonl)."""
    lines = [pair_line(f"{a} → {b}", t, predictions(a, t), predictions(b, t))
             for a, b in pairs for t in ALL_SETS]
    return "\n".join(PAIRED_HEAD + [x for x in lines if x]) + "\n"


def experiment_pairs(rows: list[dict], sets=("in_domain", "gsm8k", MINED)) -> str:
    """Markdown: each experiment paired with the commit it started from (same items), each fine-tuned model
    alike, and its own SFT → DPO. Out-of-domain sets are left out by default: every model so far scores 0 on them."""
    lines = []
    for r in rows:
        if not r.get("baseline"):
            continue
        base = r["baseline"][:7]
        for t in sets:
            for m in ("sft", "mining", "dpo"):
                lines.append(pair_line(f"{r['name']}: {m} at {base} → {m} of the run", t,
                                        predictions(m, t, r["baseline"]), predictions(m, t, r["commit"])))
            lines.append(pair_line(f"{r['name']}: sft → dpo", t,
                                    predictions("sft", t, r["commit"]), predictions("dpo", t, r["commit"])))
    lines = [x for x in lines if x]
    return "\n".join(PAIRED_HEAD + lines) + "\n" if lines else ""


# later-stage params changed after some seed replicates ran (absent there = the mining synthesis of before
# session 22; dpo.rounds 1 before session 23; mining.per_type 512 before session 41): they move SFT + mining and
# DPO, not SFT
LOOSE_LATER = ("mining.match_hardness", "mining.kept_share", "mining.per_type", "dpo.rounds")
# params that move only what follows SFT: dual arms differing in them still compare as SFT models
AFTER_SFT = ("mining.heldout_per_type", *LOOSE_LATER)


def seed_table(rows: list[dict], sets=("in_domain", "gsm8k")) -> str:
    """Markdown: the runs that differ from the workspace only in stage seeds, one per set of seeds (the
    workspace's own first), per model: each seed's score, mean, sample sd and range; and pooled over the seeds
    (discordant items summed, sign test) SFT → DPO in-domain and SFT → SFT + mining in-domain and on each run's
    own mined_types items. The size of the mined_types set
    (mining.heldout_per_type) may differ too: that set is not in this table. So may mining's synthesis
    (`LOOSE_LATER`: they move SFT + mining and DPO, not SFT): the footnote names each run's values that
    differ from the workspace's; of two runs with the same seeds, the one differing in fewer of them is kept."""
    seed_keys = sorted({k for r in rows for k in r["params"] if k.endswith(".seed")})
    def later(r: dict) -> list[str]:  # the LOOSE_LATER params where run r differs from the workspace
        return [k for k in LOOSE_LATER if r["params"].get(k) != rows[0]["params"].get(k)]
    # of two runs with the same seeds, the one whose later stages differ least from the workspace's is kept
    rows = [rows[0]] + sorted(rows[1:], key=lambda r: len(later(r)))
    runs = own_sweep(rows, *seed_keys, loose=AFTER_SFT)
    if len(runs) < 2:
        return ""
    runs.sort(key=lambda r: (any(r["params"].get(k) for k in seed_keys), r["name"]))  # all seeds 0 first
    names = [r["name"] for r in runs]
    lines = [f"| model | test set | {' | '.join(names)} | mean | sd | range |",
             "|---|---|" + "---|" * len(names) + "---|---|---|"]
    for t in sets:
        for m in MODELS:
            xs = [scores(r, m)[t] for r in runs]
            if any(x is None for x in xs):
                continue
            mean, sd = statistics.mean(xs), statistics.stdev(xs)  # sample sd
            lines.append(f"| {m} | {t} | " + " | ".join(f"{x:.3f}" for x in xs) +
                         f" | {mean:.3f} | {sd:.3f} | {min(xs):.3f}–{max(xs):.3f} |")
    pooled = []  # each stage's claim over the seeds: discordant items summed over the runs (each run's own items)
    for a_model, b_model, t in (("sft", "dpo", "in_domain"), ("sft", "mining", "in_domain"),
                                ("sft", "mining", MINED)):
        only_a = only_b = n = 0
        for r in runs:
            a, b = (predictions(m, t, r.get("commit")) for m in (a_model, b_model))
            if a and b:
                out = stats.paired([x["correct"] for x in a], [x["correct"] for x in b])
                only_a, only_b, n = only_a + out["only_a"], only_b + out["only_b"], n + 1
        if n:
            pooled.append(f"{a_model} → {b_model} {t} over {n} runs: {only_a} items only {a_model} right, "
                          f"{only_b} only {b_model}, sign test p = {stats.mcnemar(only_a, only_b):.3g}")
    def differs(r: dict) -> str:
        d = [f"{k}={r['params'].get(k, 'absent')}" for k in later(r)]
        return f" (later stages differ: {', '.join(d)})" if d else ""
    seeds = "; ".join(f"{r['name']}: " + ", ".join(f"{k}={r['params'].get(k)}" for k in seed_keys) + differs(r)
                      for r in runs)
    pooled_text = f" Pooled, discordant items summed: {'; '.join(pooled)}." if pooled else ""
    return ("\n".join(lines) + f"\n\n- Seeds ({seeds}); puzzles.seed fixes the test items, so every run scores the "
            f"same items (mined_types: each run's own).{pooled_text}\n")


def dual_arm(p: dict) -> str:
    """A run's arm of the dual-tuning ablation (2403.18295): which of IRSP and IR its SFT mix holds."""
    irsp, ir = p.get("sft.mix.irsp", 0) > 0, p.get("sft.mix.ir", 0) > 0
    names = {(False, False): "SFT alone", (True, False): "+IRSP", (False, True): "+IR", (True, True): "+both"}
    return names[(irsp, ir)]


def sweep_pairs(rows: list[dict], sets=("in_domain", "gsm8k"), models=("sft", "dpo")) -> str:
    """Markdown: each dual arm against `SFT alone` (for every default the arms were run on; arms whose later
    stages differ, `AFTER_SFT`, pair their SFT models only), and each
    data-scaling point against the next larger train size, per model on the same items (exact McNemar).
    Empty where a sweep has fewer than 2 runs."""
    lines = []
    for group in sweeps(rows, "sft.mix.irsp", "sft.mix.ir", *AFTER_SFT):  # one per default the arms were run on
        arms: dict = {}
        for r in group:
            arms.setdefault(dual_arm(r["params"]), []).append(r)  # in row order: the workspace first
        ref = arms.get("SFT alone", [None])[0]
        def same_later(r: dict) -> bool:  # run after the same mining and DPO as the reference: DPO compares too
            return all(ref["params"].get(k) == r["params"].get(k) for k in LOOSE_LATER)
        for arm in ("+IRSP", "+IR", "+both"):
            if ref and arm in arms:
                # of an arm's runs, the first whose later stages are the reference's, else its first
                r = next((x for x in arms[arm] if same_later(x)), arms[arm][0])
                later_same = same_later(r)
                lines += [pair_line(f"dual: SFT alone ({ref['name']}) → {arm} ({r['name']}), {m}", t,
                                     predictions(m, t, ref.get("commit")), predictions(m, t, r.get("commit")))
                          for t in sets for m in models if m == "sft" or later_same]  # else only SFT compares
    sizes = sorted(varying(rows, "puzzles.train_size"), key=lambda r: r["params"].get("puzzles.train_size", 0))
    for a, b in zip(sizes, sizes[1:]):
        na, nb = a["params"].get("puzzles.train_size"), b["params"].get("puzzles.train_size")
        if na != nb:
            lines += [pair_line(f"train puzzles {na:,} ({a['name']}) → {nb:,} ({b['name']}), {m}", t,
                                 predictions(m, t, a.get("commit")), predictions(m, t, b.get("commit")))
                      for t in sets for m in models]
    lines = [x for x in lines if x]
    return "\n".join(PAIRED_HEAD + lines) + "\n" if lines else ""


def size_table(test_set: str = "in_domain") -> str:
    """Markdown: the workspace's pass@1 per number of integers N of a test set (in_domain mixes N = 3 and 4),
    with Wilson intervals; empty without the test file or predictions (a clone without the DVC cache)."""
    f = io.path(f"data/puzzles/{test_set}.jsonl")
    if not f.is_file():
        return ""
    size = {r["id"]: len(r["numbers"]) for r in io.read_jsonl(f)}
    ns = sorted(set(size.values()))
    lines = ["| model | " + " | ".join(f"N = {n}" for n in ns) + " |", "|---|" + "---|" * len(ns)]
    for m in MODELS:
        pred = predictions(m, test_set)
        if not pred or any(p["id"] not in size for p in pred):
            continue
        cells = []
        for n in ns:
            bits = [bool(p["correct"]) for p in pred if size[p["id"]] == n]
            lo, hi = stats.wilson(sum(bits), len(bits))
            cells.append(f"{sum(bits)}/{len(bits)} = {sum(bits) / len(bits):.3f} [{lo:.3f}, {hi:.3f}]")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def varying(rows: list[dict], *keys: str) -> list[dict]:
    """One sweep's points: the runs whose params differ only in `keys` from an anchor run, in row order.

    The anchor is the run with the most such partners (rows[0], the workspace, on a tie), so a sweep run
    on an earlier default stays one sweep after the default moved on. A param that one run lacks and the
    other has off (0, false, empty) counts as equal: it was added later, with that value as its default.
    """
    found = sweeps(rows, *keys)
    return found[0] if found else []


def own_sweep(rows: list[dict], *keys: str, loose: tuple = ()) -> list[dict]:
    """The workspace's (rows[0]) own sweep of `keys`: the runs differing from it only in `keys` (and in the
    `loose` params, which do not tell runs apart), one run per set of `keys` values, the first in row order
    (the workspace's own first). An older default's sweep, however large, is not the workspace's."""
    group = next((g for g in sweeps(rows, *keys, *loose) if any(r is rows[0] for r in g)), [])
    runs: dict = {}
    for r in group:  # a re-run of the same values adds nothing
        runs.setdefault(tuple(r["params"].get(k, 0) for k in keys), r)
    return list(runs.values())


def sweeps(rows: list[dict], *keys: str) -> list[list[dict]]:
    """Every sweep of `keys`: per anchor run, the runs differing from it only in `keys` (in row order);
    largest first (on a tie, the earlier anchor), a group inside a bigger one left out. A sweep re-run on a
    new default is then a second group beside the old default's."""
    def same(p: dict, q: dict) -> bool:
        return all(p.get(k) == q.get(k) or (k not in p and not q[k]) or (k not in q and not p[k])
                   for k in set(p) | set(q) if k not in keys)
    groups = sorted(([r for r in rows if same(a["params"], r["params"])] for a in rows), key=len, reverse=True)
    out: list[list[dict]] = []
    for g in groups:  # sorted() is stable, also reversed: ties keep row order
        if not any({id(r) for r in g} <= {id(r) for r in kept} for kept in out):
            out.append(g)
    return out


def results_table(rows: list[dict]) -> str:
    """Markdown: every number with its model, data sizes, protocol, machine and commit."""
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=io.root(), capture_output=True,
                            text=True).stdout.strip() or "(no git)"
    lock_rev = subprocess.run(["git", "log", "-1", "--format=%h", "--", "dvc.lock"], cwd=io.root(),
                              capture_output=True, text=True).stdout.strip()
    lines = ["| run | rev | params changed | model | test set | base | SFT | SFT + mining | DPO | paper |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    ws_params = rows[0]["params"] if rows else {}
    for r in rows:
        p, m = r["params"], r["metrics"]
        changed = ", ".join(f"`{k}={v}`" for k, v in sorted(p.items()) if ws_params.get(k) != v) or "—"
        model = (f"local Llama {m.get('base.parameters', 0) / 1e6:.1f}M" if p.get("base.model", "local") == "local"
                 else p.get("base.model"))
        for t in ALL_SETS:
            if t == MINED and not any(m.get(metric_key(k, t)) is not None for k in MODELS):
                continue  # runs from before mining followed SFT have no held-out mined items
            paper = f"{PAPER_PUZZLES[t]:.2f} (3B, 100M puzzles)" if t in SETS else "—"
            rev = (lock_rev or commit) if r["name"] == "workspace" or not r["rev"] else r["rev"]
            label = f"gsm8k ({m.get('evaluate.gsm8k/protocol', 'project zero-shot')})" if t == "gsm8k" else t
            lines.append(f"| {r['name']} | {rev} | {changed} | {model} | {label} | " +
                         " | ".join(_cell(r, k, t) for k in MODELS) + f" | {paper} |")
    ws = rows[0]["metrics"]
    p = rows[0]["params"]
    lock = subprocess.run(["git", "status", "--porcelain", "dvc.lock"], cwd=io.root(), capture_output=True,
                          text=True).stdout.strip()
    pairs, seeds, sweeps, sizes = experiment_pairs(rows), seed_table(rows), sweep_pairs(rows), size_table()
    notes = ["- Cells: score [95 % Wilson interval]. Paired on the same items (workspace; exact McNemar test on "
             "the items where exactly one model is right):", "", paired_table(),
             *(["- Each experiment against the commit it started from, and its own SFT → DPO (same items):", "",
                pairs] if pairs else []),
             *(["- Seed replicates (runs differing from the workspace only in seeds):", "", seeds] if seeds else []),
             *(["- Sweeps, paired (the dual arms against SFT alone; each train size against the next larger one):",
                "", sweeps] if sweeps else []),
             *(["- In-domain pass@1 by the number of integers N (workspace; the set draws N = 3 and 4 alike):", "",
                sizes] if sizes else []),
             f"- Protocol v{ws.get('evaluate.env.protocol', '?')}, greedy; GSM8K by "
             f"{ws.get('evaluate.gsm8k/protocol', 'project zero-shot')} (`evaluate.gsm8k_protocol`), "
             f"lm-eval's `strict` (`#### N`) score, on {ws.get('evaluate.base/gsm8k/n', '?')} test items; "
             f"puzzles = pass@1 of the exact verifier on "
             f"{ws.get('evaluate.base/puzzles/in_domain/n', '?')} items per test set.",
             f"- Data: {p.get('puzzles.train_size', '?')} train puzzles (N {p.get('puzzles.train_n_from')}–"
             f"{p.get('puzzles.train_n_max')}, values {p.get('puzzles.value_min')}–{p.get('puzzles.value_max')}, "
             f"bound {p.get('puzzles.bound')}, {p.get('puzzles.trace')} trace); "
             f"ood_range values to {p.get('puzzles.ood_value_max')}; ood_components N = {p.get('puzzles.ood_n')}; "
             f"GSM8K train 7,473.",
             f"- Machine: {ws.get('evaluate.env.device', '?')}; torch {ws.get('evaluate.env.torch', '?')}, "
             f"transformers {ws.get('evaluate.env.transformers', '?')}, trl {ws.get('evaluate.env.trl', '?')}.",
             f"- Commit: {commit} (dvc.lock last committed in {lock_rev or '?'}); dvc.lock "
             f"{'modified since the commit' if lock else 'as committed'}. `workspace` = the current dvc.lock; "
             f"`commit <rev>` "
             f"rows = an earlier default that experiments started from; other rows are DVC experiments on one of "
             f"these (`dvc exp show`, or their record under {RECORDS}/), their rev the experiment's commit."]
    archive = io.path(f"{RECORDS}/archive.md")
    if archive.is_file():
        notes += ["", archive.read_text().rstrip("\n")]
    return "\n".join(lines + [""] + notes) + "\n"
