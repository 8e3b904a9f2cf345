"""The results tables of `make figures`, from the cache: runs from `dvc exp show`, cells with intervals.

`experiments()` reads `dvc exp show --json` (the workspace, its commit and every experiment) into one
row per run (flat params and metrics); `results_table(rows)` writes every number with its model, data
sizes, protocol, machine and commit, plus the paired McNemar table from the workspace's per-item
predictions (`paired_table`). figures.py draws the paper figures from the same rows and puts the
table into reports/results.md and the README.

    rows = tables.experiments(); print(tables.results_table(rows))
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mathtune import io, stats

SETS = ["in_domain", "ood_range", "ood_components"]
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
    # (later commits may touch only docs or code that changes no output): look 20 commits back, and
    # keep the workspace and the experiments, not the commits themselves (old results live there)
    out = subprocess.run([dvc_cmd(), "exp", "show", "--json", "-n", "20"],
                         cwd=io.root(), capture_output=True, text=True)
    runs = json.loads(out.stdout) if out.returncode == 0 and out.stdout.strip() else []
    rows = []

    def add(rev: dict, name: str):
        data = rev.get("data") or {}
        params = _flat((data.get("params") or {}).get("params.yaml", {}).get("data"))
        metrics = {}
        for path, m in (data.get("metrics") or {}).items():
            metrics.update(_flat(m.get("data"), Path(path).stem + "."))
        if any(k.startswith("evaluate.") for k in metrics):  # runs that got as far as evaluation
            rows.append({"name": name, "rev": rev.get("rev", "")[:10], "params": params, "metrics": metrics})

    for run in runs:
        if run.get("rev") == "workspace":
            add(run, "workspace")
        for exp in run.get("experiments") or []:
            add(exp["revs"][0], exp.get("name") or exp["revs"][0].get("rev", "")[:10])
    if not rows:  # no git/DVC history: the workspace's metrics files alone
        metrics = {}
        for f in sorted(io.path("metrics").glob("*.json")):
            metrics.update(_flat(json.loads(f.read_text()), f.stem + "."))
        rows.append({"name": "workspace", "rev": "", "params": {}, "metrics": metrics})
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


def _key(model: str, test_set: str) -> str:
    """The evaluate metric holding a model's score on a test set (GSM8K: lm-eval's strict match)."""
    return f"evaluate.{model}/gsm8k/strict" if test_set == "gsm8k" else f"evaluate.{model}/puzzles/{test_set}/pass@1"


def interval(row: dict, model: str, test_set: str) -> tuple:
    """The 95 % Wilson interval of a score, (None, None) where absent. Recomputed from the score and its
    item count where the metrics have the count: the stored bounds are rounded to 4 decimals, and
    0.1205 printed 0.120 here against 0.121 in the paired table, which counts the items."""
    key, m = _key(model, test_set), row["metrics"]
    n = m.get(key.rsplit("/", 1)[0] + "/n")
    if n and m.get(key) is not None:
        return stats.wilson(round(m[key] * n), n)
    return m.get(f"{key}_ci95_low"), m.get(f"{key}_ci95_high")


def _cell(row: dict, model: str, test_set: str) -> str:
    """`0.044 [0.028, 0.068]`: the score with its 95 % Wilson interval where the metrics have it."""
    key, m = _key(model, test_set), row["metrics"]
    if m.get(key) is None:
        return "—"
    lo, hi = interval(row, model, test_set)
    return f"{m[key]:.3f}" + ("" if lo is None else f" [{lo:.3f}, {hi:.3f}]")


def paired_table(pairs=(("base", "sft"), ("sft", "dpo"))) -> str:
    """Markdown: two models on the same items of each test set, with the exact McNemar p-value.

    Read from the workspace's per-item predictions (data/predictions/<model>/<set>.jsonl)."""
    lines = ["| comparison | test set | n | A | B | only A right | only B right | McNemar p |",
             "|---|---|---|---|---|---|---|---|"]
    for a, b in pairs:
        for t in ["gsm8k"] + SETS:
            fa, fb = (io.path(f"data/predictions/{m}/{t}.jsonl") for m in (a, b))
            if not (fa.is_file() and fb.is_file()):
                continue
            ra, rb = io.read_jsonl(fa), io.read_jsonl(fb)
            field = "strict" if t == "gsm8k" else "correct"
            if [r["id"] for r in ra] != [r["id"] for r in rb]:
                continue
            out = stats.paired([r[field] for r in ra], [r[field] for r in rb])
            ci = [f"{out[k]:.3f} [{out[k + '_ci'][0]:.3f}, {out[k + '_ci'][1]:.3f}]" for k in ("a", "b")]
            lines.append(f"| {a} → {b} | {t} | {out['n']} | {ci[0]} | {ci[1]} | {out['only_a']} | {out['only_b']} | "
                         f"{out['p']:.3g} |")
    return "\n".join(lines) + "\n"


def varying(rows: list[dict], *keys: str) -> list[dict]:
    """The runs whose params differ from the workspace's (rows[0]) only in `keys`: one sweep's points."""
    ws = rows[0]["params"] if rows else {}
    return [r for r in rows if all(r["params"].get(k) == v for k, v in ws.items() if k not in keys)
            and all(k in ws or k in keys for k in r["params"])]


def results_table(rows: list[dict]) -> str:
    """Markdown: every number with its model, data sizes, protocol, machine and commit."""
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=io.root(), capture_output=True,
                            text=True).stdout.strip() or "(no git)"
    lock_rev = subprocess.run(["git", "log", "-1", "--format=%h", "--", "dvc.lock"], cwd=io.root(),
                              capture_output=True, text=True).stdout.strip()
    lines = ["| run | rev | params changed | model | test set | base | SFT | DPO | paper |",
             "|---|---|---|---|---|---|---|---|---|"]
    ws_params = rows[0]["params"] if rows else {}
    for r in rows:
        p, m = r["params"], r["metrics"]
        changed = ", ".join(f"`{k}={v}`" for k, v in sorted(p.items()) if ws_params.get(k) != v) or "—"
        model = (f"local Llama {m.get('base.parameters', 0) / 1e6:.1f}M" if p.get("base.model", "local") == "local"
                 else p.get("base.model"))
        for t in ["gsm8k"] + SETS:
            paper = f"{PAPER_PUZZLES[t]:.2f} (3B, 100M puzzles)" if t in SETS else "—"
            rev = (lock_rev or commit) if r["name"] == "workspace" or not r["rev"] else r["rev"]
            label = f"gsm8k ({m.get('evaluate.gsm8k/protocol', 'project zero-shot')})" if t == "gsm8k" else t
            lines.append(f"| {r['name']} | {rev} | {changed} | {model} | {label} | " +
                         " | ".join(_cell(r, k, t) for k in ("base", "sft", "dpo")) + f" | {paper} |")
    ws = rows[0]["metrics"]
    p = rows[0]["params"]
    lock = subprocess.run(["git", "status", "--porcelain", "dvc.lock"], cwd=io.root(), capture_output=True,
                          text=True).stdout.strip()
    notes = ["- Cells: score [95 % Wilson interval]. Paired on the same items (workspace; exact McNemar test on "
             "the items where exactly one model is right):", "", paired_table(),
             f"- Protocol v{ws.get('evaluate.env.protocol', '?')}, greedy; GSM8K by "
             f"{ws.get('evaluate.gsm8k/protocol', 'project zero-shot')} (`evaluate.gsm8k_protocol`), lm-eval's `strict` "
             f"(`#### N`) score, on {ws.get('evaluate.base/gsm8k/n', '?')} test items; puzzles = pass@1 of the exact verifier on "
             f"{ws.get('evaluate.base/puzzles/in_domain/n', '?')} items per test set.",
             f"- Data: {p.get('puzzles.train_size', '?')} train puzzles (N {p.get('puzzles.train_n_from')}–"
             f"{p.get('puzzles.train_n_max')}, values {p.get('puzzles.value_min')}–{p.get('puzzles.value_max')}, "
             f"bound {p.get('puzzles.bound')}, {p.get('puzzles.trace')} trace); "
             f"ood_range values to {p.get('puzzles.ood_value_max')}; ood_components N = {p.get('puzzles.ood_n')}; "
             f"GSM8K train 7,473.",
             f"- Machine: {ws.get('evaluate.env.device', '?')}; torch {ws.get('evaluate.env.torch', '?')}, "
             f"transformers {ws.get('evaluate.env.transformers', '?')}, trl {ws.get('evaluate.env.trl', '?')}.",
             f"- Commit: {commit} (dvc.lock last committed in {lock_rev or '?'}); dvc.lock "
             f"{'modified since the commit' if lock else 'as committed'}. `workspace` = the current dvc.lock; other "
             f"rows are DVC experiments on it (`dvc exp show`), their rev the experiment's commit."]
    return "\n".join(lines + [""] + notes) + "\n"
