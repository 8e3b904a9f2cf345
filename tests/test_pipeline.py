"""The whole pipeline through dvc + papermill on tiny params, and the layout rules that keep it honest."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import REPO
from mathtune import config

STAGES = ["puzzles", "dual", "base", "sft", "mining", "dpo", "evaluate"]


def _flat(d, pre=""):
    for k, v in d.items():
        yield from (_flat(v, f"{pre}{k}.") if isinstance(v, dict) else [f"{pre}{k}"])


READS = {"sft": ["base.arithmetic_small"]}  # sft.replay draws calculations over the base corpus's range


def test_dvc_yaml_has_the_seven_stages_each_passing_exactly_its_params():
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert list(dvc) == STAGES
    for i, name in enumerate(STAGES, 1):
        stage, nb = dvc[name], f"notebooks/{i:02d}_{name}.ipynb"
        keys = list(_flat(params[name]))
        # another stage's param read at run time (not passed by papermill) is declared after the stage's own
        assert stage["params"] == [f"{name}.{k}" for k in keys] + READS.get(name, [])
        for k in keys:
            assert f'-p {k.replace(".", "_")} "${{{name}.{k}}}"' in stage["cmd"]
        assert f"papermill --log-level ERROR {nb} reports/executed/{i:02d}_{name}.ipynb" in stage["cmd"]
        assert nb in stage["deps"] and f"src/mathtune/{name}.py" in stage["deps"]
        assert stage["metrics"] == [{f"metrics/{name}.json": {"cache": False}}]
        assert sorted(f.name for f in config.STAGES[name].__dataclass_fields__.values()) == \
            sorted(k.replace(".", "_") for k in keys)


def _mathtune_imports(code: str) -> set[str]:
    """Modules named by `from mathtune import a, b` / `from mathtune.a import x`, at any depth of the code."""
    import ast
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module == "mathtune":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mathtune."):
            found.add(node.module.split(".")[1])
    return found


def test_each_stage_depends_on_every_module_its_notebook_runs():
    # editing a module must re-run every stage whose code reaches it, even through another module
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    src = REPO / "src/mathtune"
    for i, name in enumerate(STAGES, 1):
        nb = nbformat.read(REPO / f"notebooks/{i:02d}_{name}.ipynb", as_version=4)
        todo = _mathtune_imports("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
        reached = set()
        while todo:
            mod = todo.pop()
            if mod not in reached:
                reached.add(mod)
                todo |= _mathtune_imports((src / f"{mod}.py").read_text())
        declared = {d for d in dvc[name]["deps"] if d.startswith("src/")}
        assert declared == {f"src/mathtune/{m}.py" for m in reached}, name


def test_notebooks_are_thin_sources_without_outputs():
    for i, name in enumerate(STAGES, 1):
        nb = nbformat.read(REPO / f"notebooks/{i:02d}_{name}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", [])
        assert f'STAGE = "{name}"' in code[0].source
        assert all(not c.outputs and c.execution_count is None for c in code)
        assert any(f"{name}.stage(cfg)" in c.source for c in code)
        assert max(len(c.source.splitlines()) for c in code) <= 8  # logic lives in src/


def _copy_repo(dst: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        if (REPO / f).is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, dst / f)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    for stage, values in yaml.safe_load((REPO / "tests/tiny_params.yaml").read_text()).items():
        params[stage].update(values)
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for p in ("dvc.lock", "metrics", "plots", "reports"):
        shutil.rmtree(dst / p, ignore_errors=True) if (dst / p).is_dir() else (dst / p).unlink(missing_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)


def _dvc(cwd, *args):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


TIMING = ("seconds", "per_s", "peak_memory")


def _outs(root: Path) -> dict:
    lock = yaml.safe_load((root / "dvc.lock").read_text())["stages"]
    return {o["path"]: o.get("md5") for st in lock.values() for o in st.get("outs", [])}


def _files(root: Path) -> dict:
    """md5 of every file the stages wrote under data/ (GSM8K excepted) and models/."""
    import hashlib
    return {str(f.relative_to(root)): hashlib.md5(f.read_bytes()).hexdigest()
            for d in ("data", "models") for f in sorted((root / d).rglob("*"))
            if f.is_file() and "gsm8k" not in f.parts and f.name != ".gitignore"}


def _scores(root: Path) -> dict:
    """Every metric except timings, for every stage."""
    out = {}
    for f in sorted((root / "metrics").glob("*.json")):
        out[f.stem] = {k: v for k, v in json.loads(f.read_text()).items() if not any(t in k for t in TIMING)}
    return out


@pytest.mark.slow
def test_dvc_repro_runs_all_seven_stages_end_to_end(tmp_path):
    _copy_repo(tmp_path)
    run = _dvc(tmp_path, "repro")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for name in STAGES:
        assert f"Running stage '{name}'" in run.stdout
    for f in ["data/puzzles/train.jsonl", "data/puzzles/ood_components.jsonl", "data/dual/irsp.jsonl",
              "data/dual/ir.jsonl", "models/base/config.json", "models/base/tokenizer.json",
              "data/mining/error_types.csv", "data/mining/targeted.jsonl", "data/mining/heldout.jsonl",
              "models/sft/adapter_config.json", "models/mining/adapter_config.json",
              "data/dpo/pairs.jsonl", "models/dpo/adapter_config.json", "plots/base/loss.csv", "plots/evaluate/scaling.csv",
              "reports/figures/evaluate/scores.png", "reports/figures/puzzles/distributions_n_x.png"]:
        assert (tmp_path / f).is_file(), f
    for model in ("base", "sft", "mining", "dpo"):
        for test_set in ("gsm8k", "in_domain", "ood_range", "ood_components"):
            assert (tmp_path / f"data/predictions/{model}/{test_set}.jsonl").is_file()
    key = lambda r: (tuple(r["numbers"]), r["target"])  # noqa: E731
    held = {key(r) for r in map(json.loads, (tmp_path / "data/mining/heldout.jsonl").read_text().splitlines())}
    mined = [json.loads(x) for x in (tmp_path / "data/mining/targeted.jsonl").read_text().splitlines()]
    assert held and not held & {key(r) for r in mined if r["source"] == "puzzles"}  # mined_types is never trained on
    shown = json.loads(_dvc(tmp_path, "metrics", "show", "--json").stdout)
    metrics = next(iter(shown.values()))["data"]["metrics/evaluate.json"]["data"]
    for model in ("base", "sft", "mining", "dpo"):
        for key in ("gsm8k/strict", "gsm8k/flexible", "gsm8k/invalid", "puzzles/in_domain/pass@1",
                    "puzzles/ood_range/pass@1", "puzzles/ood_components/pass@1"):
            assert 0.0 <= metrics[f"{model}/{key}"] <= 1.0
    env = json.loads((tmp_path / "metrics/sft.json").read_text())["env"]
    assert {"python", "torch", "transformers", "peft", "trl", "bitsandbytes", "dvc", "device", "seed"} <= set(env)
    executed = nbformat.read(tmp_path / "reports/executed/01_puzzles.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)

    again = _dvc(tmp_path, "repro")
    assert again.returncode == 0 and "Running stage" not in again.stdout

    # reproducible to the byte and independent of where the clone lives: a second clone in another
    # folder gives the same dvc.lock hash for every data artifact and every model of every stage;
    # metrics differ only in timings, executed notebooks only in papermill's timestamps (README)
    other = tmp_path.parent / f"{tmp_path.name} another clone" / "mathtune"  # a space, as in "My Drive"
    other.mkdir(parents=True)
    _copy_repo(other)
    second = _dvc(other, "repro")
    assert second.returncode == 0, second.stderr[-2000:]
    lock, relock = _outs(tmp_path), _outs(other)
    same = [k for k in lock if k.startswith(("data/", "models/"))]
    assert len(same) == 9 and {k: relock[k] for k in same} == {k: lock[k] for k in same}
    assert _scores(other) == _scores(tmp_path)
    shutil.rmtree(other.parent)

    # make figures: every paper figure and CSV, from the cache, training nothing
    fig = subprocess.run([sys.executable, "-m", "mathtune.figures"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert fig.returncode == 0, fig.stderr[-2000:]
    for name in ("puzzles_scaling", "puzzles_extrapolation", "dual_ablation", "dpo_stages", "mining_accuracy",
                 "mining_types"):
        assert (tmp_path / f"reports/figures/paper/{name}.png").is_file()
        assert (tmp_path / f"reports/figures/paper/{name}.csv").is_file()
    results = (tmp_path / "reports/results.md").read_text()
    assert "| workspace |" in results and "0.44 (3B, 100M puzzles)" in results
    assert results in (tmp_path / "README.md").read_text()

    # every notebook run by hand (nbclient, cwd notebooks/, nothing injected) computes what DVC computed
    before, scores = _files(tmp_path), _scores(tmp_path)
    from nbclient import NotebookClient
    for i, name in enumerate(STAGES, 1):
        nb = nbformat.read(tmp_path / f"notebooks/{i:02d}_{name}.ipynb", as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()
    assert _files(tmp_path) == before
    nb = nbformat.read(tmp_path / "notebooks/figures.ipynb", as_version=4)  # the figures notebook, by hand
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()
    assert any("dpo_stages" in str(o) for c in nb.cells for o in c.get("outputs", []))
    assert _scores(tmp_path) == scores  # timings differ, nothing else does

    # changing only an evaluate param re-runs only evaluate
    params = yaml.safe_load((tmp_path / "params.yaml").read_text())
    params["evaluate"]["gsm8k_limit"] = 4
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    third = _dvc(tmp_path, "repro")
    assert third.returncode == 0, third.stderr[-2000:]
    assert [ln for ln in third.stdout.splitlines() if ln.startswith("Running stage")] == ["Running stage 'evaluate':"]
