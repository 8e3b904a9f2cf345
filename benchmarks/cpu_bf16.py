"""Seconds per training step in fp32 against bf16 autocast on this CPU (issue 14: "bf16 autocast on CPUs
that have AVX512-BF16"), for a Llama of the base's shape or a larger one.

A plain PyTorch loop (forward, backward, AdamW) on random token batches of the SFT stage's width; the
two arms alternate step by step in one process, so a busy neighbour slows both alike; the first steps
are warm-up. Prints the CPU capability, the median s/step per arm and the ratio. About a minute for
the default shape on 2 cores. `--generate N` times greedy generation instead (batch of --batch prompts of
--seq tokens, N new tokens, KV cache, as the stages sample and score): fp32, bf16 autocast over fp32 weights,
and weights cast to bf16, the three arms in turn.

    python benchmarks/cpu_bf16.py [--hidden 256 --layers 4 --intermediate 704] [--seq 60] [--steps 40]
    python benchmarks/cpu_bf16.py --generate 64 --seq 30 --steps 12
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

WARMUP = 4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=704)
    ap.add_argument("--seq", type=int, default=60, help="tokens a row (a puzzle example is ~40-60)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--generate", type=int, default=0, metavar="N", help="time generating N new tokens instead")
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=2048, hidden_size=args.hidden, num_hidden_layers=args.layers,
                      num_attention_heads=args.hidden // 64, num_key_value_heads=args.hidden // 64,
                      intermediate_size=args.intermediate, max_position_embeddings=512)
    model = LlamaForCausalLM(cfg)
    if args.generate:
        return generation(model, args)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, cfg.vocab_size, (args.batch, args.seq))
    times = {False: [], True: []}
    for step in range(args.steps):
        bf16 = step % 2 == 1
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        if step >= WARMUP:
            times[bf16].append(time.perf_counter() - start)
    fp32, bf16 = statistics.median(times[False]), statistics.median(times[True])
    print(f"RESULT {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads, "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M params, batch {args.batch} x {args.seq}: "
          f"fp32 {fp32:.3f} s/step, bf16 autocast {bf16:.3f} s/step, ratio {bf16 / fp32:.2f}")


@torch.inference_mode()
def generation(model, args) -> None:
    model.eval()
    x = torch.randint(3, model.config.vocab_size, (args.batch, args.seq))
    half = copy.deepcopy(model).to(torch.bfloat16)
    arms = {"fp32": (model, False), "bf16 autocast": (model, True), "bf16 weights": (half, False)}
    times = {name: [] for name in arms}
    for rep in range(args.steps):
        for name, (m, auto) in arms.items():
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=auto):
                m.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=args.generate,
                           min_new_tokens=args.generate, do_sample=False, pad_token_id=0)
            if rep >= 2:
                times[name].append(time.perf_counter() - start)
    fp32 = statistics.median(times["fp32"])
    print(f"RESULT generate {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads, batch "
          f"{args.batch} x {args.seq} + {args.generate} new: " + ", ".join(
              f"{name} {statistics.median(t):.3f} s ({statistics.median(t) / fp32:.2f})" for name, t in times.items()))


if __name__ == "__main__":
    main()
