"""Paper figures and results tables from the cache: `make figures` (= `python -m mathtune.figures`).

Reads `dvc exp show --json` (the workspace, its commit and every experiment) plus cached outputs and
draws the analogue of each seed paper's headline result under reports/figures/paper/, a CSV beside
each; then writes reports/results.md and the README's results block from the same numbers. A figure
whose experiments are missing is drawn from what exists and names the `dvc exp run` to add.
With two or more train sizes it also has DVC render the sweep (`dvc plots diff`, dvc.yaml's
`puzzles_scaling` plot of plots/evaluate/scaling.csv) into reports/figures/paper/dvc_scaling/.
Trains nothing: seconds after `dvc repro`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from mathtune import io, stats  # noqa: E402

SETS = ["in_domain", "ood_range", "ood_components"]
PAPER_PUZZLES = {"in_domain": 0.44, "ood_range": 0.33, "ood_components": 0.35}  # open-llama-3B, 100M puzzles
MARK = ("<!-- results:start -->", "<!-- results:end -->")


def _flat(d: dict, pre: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{pre}{k}."))
        else:
            out[f"{pre}{k}"] = v
    return out


def _dvc() -> str:
    """The project's own dvc, also when PATH lacks .venv/bin."""
    dvc = Path(sys.executable).parent / "dvc"
    return str(dvc) if dvc.exists() else "dvc"


def experiments() -> list[dict]:
    """One row per run DVC knows: name, rev, flat params ('sft.mix.irsp') and flat metrics ('evaluate.sft/...')."""
    # experiments hang off the commit whose dvc.lock they started from, which may be older than HEAD
    # (later commits may touch only docs or code that changes no output): look 20 commits back, and
    # keep the workspace and the experiments, not the commits themselves (old results live there)
    out = subprocess.run([_dvc(), "exp", "show", "--json", "-n", "20"],
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


def _figure(df: pd.DataFrame, name: str, draw, missing: list[str]) -> Path:
    target = io.path(f"reports/figures/paper/{name}.png")
    io.write_text(target.with_suffix(".csv"), df.to_csv(index=False))
    fig, ax = plt.subplots(figsize=(8, 4))
    if len(df):
        draw(df, ax)
    if missing:
        ax.text(0.01, 0.98, "missing runs:\n" + "\n".join(missing), transform=ax.transAxes, va="top", fontsize=7,
                family="monospace", bbox={"facecolor": "lightyellow", "alpha": 0.8})
    with io.atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return target


def _scores(row: dict, model: str) -> dict:
    m = row["metrics"]
    s = {t: m.get(f"evaluate.{model}/puzzles/{t}/pass@1") for t in SETS}
    s["gsm8k"] = m.get(f"evaluate.{model}/gsm8k/strict")
    return s


def _key(model: str, test_set: str) -> str:
    """The evaluate metric holding a model's score on a test set (GSM8K: lm-eval's strict match)."""
    return f"evaluate.{model}/gsm8k/strict" if test_set == "gsm8k" else f"evaluate.{model}/puzzles/{test_set}/pass@1"


def _interval(row: dict, model: str, test_set: str) -> tuple:
    """The 95 % Wilson interval of a score from the metrics, (None, None) where absent."""
    key = _key(model, test_set)
    return row["metrics"].get(f"{key}_ci95_low"), row["metrics"].get(f"{key}_ci95_high")


def _bars(d: pd.DataFrame, ax, hue: str) -> None:
    """Grouped bars (x = test set) with the 95 % Wilson intervals as error bars."""
    xs, hs = list(dict.fromkeys(d["test set"])), list(dict.fromkeys(d[hue]))
    width = 0.8 / len(hs)
    for j, (h, color) in enumerate(zip(hs, sns.color_palette(n_colors=len(hs)))):
        sub = d[d[hue] == h].drop_duplicates("test set").set_index("test set")
        ts = [t for t in xs if t in sub.index]
        s = sub.loc[ts]
        err = [(s["score"] - s["lo"]).fillna(0).clip(lower=0), (s["hi"] - s["score"]).fillna(0).clip(lower=0)]
        ax.bar([xs.index(t) + (j - (len(hs) - 1) / 2) * width for t in ts], s["score"], width, yerr=err,
               capsize=3, color=color, label=h)
    ax.set_xticks(range(len(xs)), xs)
    ax.set_ylabel("score (95 % Wilson interval)")
    ax.legend(fontsize=7)


def _cell(row: dict, model: str, test_set: str) -> str:
    """`0.044 [0.028, 0.068]`: the score with its 95 % Wilson interval where the metrics have it."""
    key, m = _key(model, test_set), row["metrics"]
    if m.get(key) is None:
        return "—"
    lo, hi = _interval(row, model, test_set)
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


def puzzles_scaling(rows: list[dict]) -> Path:
    rows = varying(rows, "puzzles.train_size")
    data = [{"train_size": r["params"].get("puzzles.train_size"), "test set": t, "pass@1": v, "run": r["name"],
             **dict(zip(("lo", "hi"), _interval(r, "sft", t)))}
            for r in rows for t, v in _scores(r, "sft").items() if t in SETS and v is not None]
    df = pd.DataFrame(data, columns=["train_size", "test set", "pass@1", "run", "lo", "hi"])
    sizes = sorted(set(df["train_size"].dropna()))
    missing = [] if len(sizes) >= 3 else [f"dvc exp run -S puzzles.train_size={n}" for n in (10000, 30000, 100000)
                                          if n not in sizes]
    return _figure(df, "puzzles_scaling", lambda d, ax: (
        sns.lineplot(d, x="train_size", y="pass@1", hue="test set", marker="o", ax=ax), ax.set_xscale("log"),
        ax.set_title("2406.02100 analogue: SFT pass@1 vs puzzle train size")), missing)


def dvc_scaling(rows: list[dict]) -> Path | None:
    """DVC's own rendering of the sweep: `dvc plots diff <runs> --targets puzzles_scaling` (dvc.yaml)."""
    names = [r["name"] for r in varying(rows, "puzzles.train_size")]
    if len(names) < 2:
        return None
    out = io.path("reports/figures/paper/dvc_scaling")
    run = subprocess.run([_dvc(), "plots", "diff", *names, "--targets", "puzzles_scaling",
                          "-o", str(out)], cwd=io.root(), capture_output=True, text=True)
    return out / "index.html" if run.returncode == 0 else None


def puzzles_extrapolation() -> Path:
    """pass@1 against N, from the workspace's predictions joined with the test puzzles."""
    rows = []
    for t in ("in_domain", "ood_components"):
        f = io.path(f"data/puzzles/{t}.jsonl")
        if not f.is_file():
            continue
        n_of = {r["id"]: len(r["numbers"]) for r in io.read_jsonl(f)}
        for model_dir in sorted(io.path("data/predictions").glob("*")):
            p = model_dir / f"{t}.jsonl"
            for r in io.read_jsonl(p) if p.is_file() else []:
                rows.append({"model": model_dir.name, "N": n_of.get(r["id"]), "correct": r["correct"]})
    df = pd.DataFrame(rows, columns=["model", "N", "correct"])
    df = df.groupby(["model", "N"], as_index=False)["correct"].mean().rename(columns={"correct": "pass@1"}) if len(df) else df
    missing = [] if len(df) else ["dvc repro evaluate"]
    return _figure(df, "puzzles_extrapolation", lambda d, ax: (
        sns.lineplot(d, x="N", y="pass@1", hue="model", marker="o", ax=ax),
        ax.set_title("2406.02100 analogue: pass@1 vs number of integers N (train has N <= 4)")), missing)


def _arm(p: dict) -> str | None:
    irsp, ir = p.get("sft.mix.irsp", 0) > 0, p.get("sft.mix.ir", 0) > 0
    return {(False, False): "SFT alone", (True, False): "+IRSP", (False, True): "+IR", (True, True): "+both"}[(irsp, ir)]


def dual_ablation(rows: list[dict]) -> Path:
    rows = varying(rows, "sft.mix.irsp", "sft.mix.ir")
    data = [{"arm": _arm(r["params"]), "test set": t, "score": v, "run": r["name"],
             **dict(zip(("lo", "hi"), _interval(r, "sft", t)))}
            for r in rows if "sft.mix.irsp" in r["params"] for t, v in _scores(r, "sft").items() if v is not None]
    df = pd.DataFrame(data, columns=["arm", "test set", "score", "run", "lo", "hi"]).drop_duplicates(["arm", "test set"], keep="first")
    flags = {"SFT alone": "-S sft.mix.irsp=0 -S sft.mix.ir=0", "+IRSP": "-S sft.mix.ir=0", "+IR": "-S sft.mix.irsp=0",
             "+both": ""}
    missing = [f"dvc exp run {flags[a]}" for a in flags if a not in set(df["arm"])]
    return _figure(df, "dual_ablation", lambda d, ax: (
        _bars(d, ax, "arm"),
        ax.set_title("2403.18295 analogue: SFT with dual data (GSM8K strict, puzzle pass@1)")), missing)


def dpo_stages(rows: list[dict]) -> Path:
    ws = rows[0]
    data = [{"model": m, "test set": t, "score": v, **dict(zip(("lo", "hi"), _interval(ws, m, t)))}
            for m in ("base", "sft", "dpo") for t, v in _scores(ws, m).items() if v is not None]
    df = pd.DataFrame(data, columns=["model", "test set", "score", "lo", "hi"])
    missing = [] if {"sft", "dpo"} <= set(df["model"]) else ["dvc repro dpo evaluate"]
    return _figure(df, "dpo_stages", lambda d, ax: (
        _bars(d, ax, "model"),
        ax.set_title("2405.00402 analogue: base -> SFT -> DPO")), missing)


def mining(rows: list[dict]) -> Path:
    f = io.path("data/mining/error_types.csv")
    types = pd.read_csv(f) if f.is_file() else pd.DataFrame(columns=["round", "name", "size"])
    # every run that differs from the workspace only in mining params or the mined data's SFT weight,
    # labelled with how many mined items its SFT mix held
    mining_keys = [k for r in rows for k in r["params"] if k.startswith("mining.")] + ["sft.mix.mining"]
    acc = []
    for r in varying(rows, *mining_keys):
        arm = "with" if r["params"].get("sft.mix.mining", 0) > 0 else "without"
        run = f"{r['name']} ({arm} mined data, {int(r['metrics'].get('sft.mix/mining', 0) or 0)} items)"
        acc += [{"run": run, "mined data": arm, "test set": t, "score": v, **dict(zip(("lo", "hi"), _interval(r, "sft", t)))}
                for t, v in _scores(r, "sft").items() if v is not None]
    acc = pd.DataFrame(acc, columns=["run", "mined data", "test set", "score", "lo", "hi"])
    missing = [] if set(acc["mined data"]) == {"with", "without"} else ["dvc exp run -S sft.mix.mining=0"]
    io.write_text(io.path("reports/figures/paper/mining_types.csv"), types.to_csv(index=False))

    def draw(d, ax):
        _bars(d, ax, "run")
        ax.set_title("2505.22591 analogue: SFT with vs without mined data")
    out = _figure(acc, "mining_accuracy", draw, missing)
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.4 * max(1, len(types))))
    if len(types):
        sns.barplot(types, y="name", x="size", hue="round" if "round" in types else None, ax=ax, orient="h")
    ax.set_title("2505.22591 analogue: error-type sizes per mining round")
    with io.atomic_path(io.path("reports/figures/paper/mining_types.png")) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return out


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


def main() -> list[Path]:
    rows = experiments()
    out = [puzzles_scaling(rows), puzzles_extrapolation(), dual_ablation(rows), dpo_stages(rows), mining(rows)]
    out += [p for p in [dvc_scaling(rows)] if p]
    table = results_table(rows)
    io.write_text(io.path("reports/results.md"), table)
    readme = io.path("README.md")
    text = readme.read_text() if readme.is_file() else ""
    if MARK[0] in text and MARK[1] in text:
        head, rest = text.split(MARK[0], 1)
        io.write_text(readme, head + MARK[0] + "\n" + table + MARK[1] + rest.split(MARK[1], 1)[1])
    for f in out:
        print(f.relative_to(io.root()))
    return out


if __name__ == "__main__":
    main()
