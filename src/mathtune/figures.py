"""Paper figures and results tables from the cache: `make figures` (= `python -m mathtune.figures`).

Reads the runs DVC knows (tables.experiments: the workspace, its commit and every experiment) plus
cached outputs and draws the analogue of each seed paper's headline result under
reports/figures/paper/, a CSV beside each; then writes reports/results.md and the README's results
block from the same numbers (tables.results_table). A figure
whose experiments are missing is drawn from what exists and names the `dvc exp run` to add.
With two or more train sizes it also has DVC render the sweep (`dvc plots diff`, dvc.yaml's
`puzzles_scaling` plot of plots/evaluate/scaling.csv) into reports/figures/paper/dvc_scaling/.
Trains nothing: seconds after `dvc repro`.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from mathtune import io  # noqa: E402
from mathtune.tables import (AFTER_SFT, MINED, MODELS, SETS, dual_arm, metric_key, dvc_cmd,  # noqa: E402
                             experiments, interval, own_sweep, results_table, scores, sweeps, varying)

MARK = ("<!-- results:start -->", "<!-- results:end -->")


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


def puzzles_scaling(rows: list[dict]) -> Path:
    rows = varying(rows, "puzzles.train_size")
    data = [{"train_size": r["params"].get("puzzles.train_size"), "test set": t, "pass@1": v, "run": r["name"],
             **dict(zip(("lo", "hi"), interval(r, "sft", t)))}
            for r in rows for t, v in scores(r, "sft").items() if t in SETS and v is not None]
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
    run = subprocess.run([dvc_cmd(), "plots", "diff", *names, "--targets", "puzzles_scaling",
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
    if len(df):
        df = df.groupby(["model", "N"], as_index=False)["correct"].mean().rename(columns={"correct": "pass@1"})
    missing = [] if len(df) else ["dvc repro evaluate"]
    return _figure(df, "puzzles_extrapolation", lambda d, ax: (
        sns.lineplot(d, x="N", y="pass@1", hue="model", marker="o", ax=ax),
        ax.set_title("2406.02100 analogue: pass@1 vs number of integers N (train has N <= 4)")), missing)


def dual_ablation(rows: list[dict]) -> Path:
    """SFT scores per dual arm: the workspace's own arms where it has any (rows[0]; runs differing in what
    follows SFT too, `tables.AFTER_SFT`), else the largest sweep."""
    keys = ("sft.mix.irsp", "sft.mix.ir")
    runs = own_sweep(rows, *keys, loose=AFTER_SFT)
    if len(runs) < 2:
        found = sweeps(rows, *keys, *AFTER_SFT)
        runs = found[0] if found else []
    data = [{"arm": dual_arm(r["params"]), "test set": t, "score": v, "run": r["name"],
             **dict(zip(("lo", "hi"), interval(r, "sft", t)))}
            for r in runs if "sft.mix.irsp" in r["params"] for t, v in scores(r, "sft").items() if v is not None]
    df = pd.DataFrame(data, columns=["arm", "test set", "score", "run", "lo", "hi"])
    df = df.drop_duplicates(["arm", "test set"], keep="first")
    flags = {"SFT alone": "-S sft.mix.irsp=0 -S sft.mix.ir=0", "+IRSP": "-S sft.mix.ir=0", "+IR": "-S sft.mix.irsp=0",
             "+both": ""}
    missing = [f"dvc exp run {flags[a]}" for a in flags if a not in set(df["arm"])]
    return _figure(df, "dual_ablation", lambda d, ax: (
        _bars(d, ax, "arm"),
        ax.set_title("2403.18295 analogue: SFT with dual data (GSM8K strict, puzzle pass@1)")), missing)


def dpo_stages(rows: list[dict]) -> Path:
    """base -> SFT -> SFT + mining -> DPO (the workspace, its dpo.rounds), then DPO after other round counts
    (experiments on `dpo.rounds`)."""
    ws = rows[0]
    ws_rounds = ws["params"].get("dpo.rounds", 1)
    more = [r for r in own_sweep(rows, "dpo.rounds") if r["params"].get("dpo.rounds", 1) != ws_rounds]
    runs = [(ws, m, m if m != "dpo" else f"dpo ({ws_rounds} round{'s' * (ws_rounds > 1)})") for m in MODELS]
    runs += [(r, "dpo", f"dpo ({r['params']['dpo.rounds']} rounds)") for r in more]
    data = [{"model": label, "test set": t, "score": v, **dict(zip(("lo", "hi"), interval(r, m, t)))}
            for r, m, label in runs for t, v in scores(r, m).items() if v is not None]
    df = pd.DataFrame(data, columns=["model", "test set", "score", "lo", "hi"])
    missing = ([] if len(set(df["model"])) >= 3 else ["dvc repro dpo evaluate"]) + \
        ([] if more else [f"dvc exp run -S dpo.rounds={1 if ws_rounds > 1 else 2}"])
    return _figure(df, "dpo_stages", lambda d, ax: (
        _bars(d, ax, "model"),
        ax.set_title("2405.00402 analogue: base -> SFT -> SFT + mining -> DPO")), missing)


def mining(rows: list[dict]) -> Path:
    f = io.path("data/mining/error_types.csv")
    types = pd.read_csv(f) if f.is_file() else pd.DataFrame(columns=["round", "name", "size"])
    # the workspace and every run that differs from it only in mining params: the mining stage's model (SFT after
    # continued fine-tuning) with targeted data (per_type > 0) or on replay alone (the control), and the SFT
    # model both start from, on the puzzle sets and the held-out items per mined error type
    acc = []
    for r in own_sweep(rows, *sorted({k for r in rows for k in r["params"] if k.startswith("mining.")})):
        arm = "with" if r["params"].get("mining.per_type", 0) > 0 else "without"
        run = f"{r['name']} ({arm} mined data, {int(r['metrics'].get('mining.kept', 0) or 0)} items)"
        for model, label in (("sft", "SFT (start)"), ("mining", run)):
            acc += [{"run": label, "mined data": arm if model == "mining" else "SFT", "test set": t,
                     "score": r["metrics"][key], **dict(zip(("lo", "hi"), interval(r, model, t)))}
                    for t in ["in_domain", "gsm8k", MINED] if (key := metric_key(model, t)) in r["metrics"]]
    acc = pd.DataFrame(acc, columns=["run", "mined data", "test set", "score", "lo", "hi"])
    acc = acc.drop_duplicates(["run", "test set"])
    missing = [] if {"with", "without"} <= set(acc["mined data"]) else ["dvc exp run -S mining.per_type=0"]
    io.write_text(io.path("reports/figures/paper/mining_types.csv"), types.to_csv(index=False))

    def draw(d, ax):
        _bars(d, ax, "run")
        ax.set_title("2505.22591 analogue: continued fine-tuning with vs without mined data")
    out = _figure(acc, "mining_accuracy", draw, missing)
    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.4 * max(1, len(types))))
    if len(types):
        sns.barplot(types, y="name", x="size", hue="round" if "round" in types else None, ax=ax, orient="h")
    ax.set_title("2505.22591 analogue: error-type sizes per mining round")
    with io.atomic_path(io.path("reports/figures/paper/mining_types.png")) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return out


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
