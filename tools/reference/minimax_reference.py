#!/usr/bin/python3
"""PyTorch reference for MinimaxDiffusion's criteria (Evlf.OnnxHybrid.Training.MinimaxCriteria, docs/PIPELINES.md §4).

Writes parity vectors that tests/Evlf.OnnxHybrid.Tests/Training/MinimaxReferenceTests.cs compares against:

    /usr/bin/python3 tools/reference/minimax_reference.py --out tests/Evlf.OnnxHybrid.Tests/Training/Vectors

One case is a sequence of steps of one fine-tune, each with a batch of real latents x0, noised latents xt, per-row
timesteps t on DiT's linear schedule, the model's predicted eps and the real labels. Per step it stores
x̂0 = sqrt(1/ᾱ_t)·xt − sqrt(1/ᾱ_t − 1)·eps, the representativeness and diversity terms, and the gradient of
0.002·rep + 0.008·div with respect to eps; after the last step, each class's memories. Written from the paper's
definitions (rep_c = 1 − min cos(x̂0_c, real memory), div_c = max cos(x̂0_c, pseudo memory), averaged over the classes in
the batch, FIFO memories updated after the terms), in a different style from the C# code: memories are Python lists of
rows, similarities come from torch's cosine_similarity on broadcast pairs. Inputs are float64; deterministic.
"""

import argparse
import json
import os
import shutil

import torch
import torch.nn.functional as F

from noise_schedules import F64, T_TRAIN, linear_betas, tables
from vector_writer import Writer

REP_WEIGHT, DIV_WEIGHT = 0.002, 0.008


def run_case(w, name, seed, classes, memory, shape, labels_per_step):
    gen = torch.Generator().manual_seed(seed)
    tab = tables(linear_betas(1e-4, 0.02, T_TRAIN))
    real_memory = {c: [] for c in range(classes)}
    pseudo_memory = {c: [] for c in range(classes)}
    tensors, params = {}, {"classes": classes, "memory": memory, "steps": len(labels_per_step),
                           "rep_weight": REP_WEIGHT, "div_weight": DIV_WEIGHT}
    for s, labels in enumerate(labels_per_step):
        n = len(labels)
        y = torch.tensor(labels, dtype=torch.int64)
        x0 = torch.randn(n, *shape, generator=gen, dtype=F64)
        xt = torch.randn(n, *shape, generator=gen, dtype=F64)
        t = torch.randint(0, T_TRAIN, (n,), generator=gen)
        eps = torch.randn(n, *shape, generator=gen, dtype=F64).requires_grad_(True)
        view = (n,) + (1,) * len(shape)
        x0_hat = tab["sqrt_recip_alphas_cumprod"][t].view(view) * xt - tab["sqrt_recipm1_alphas_cumprod"][t].view(view) * eps

        present = sorted(set(labels))
        rep = torch.zeros((), dtype=F64)
        div = torch.zeros((), dtype=F64)
        for c in present:
            mine = x0_hat[y == c].reshape(int((y == c).sum()), -1)
            if pseudo_memory[c]:
                reals = torch.stack(real_memory[c])
                pseudos = torch.stack(pseudo_memory[c])
                rep = rep + (1 - F.cosine_similarity(mine[:, None, :], reals[None, :, :], dim=-1).min()) / len(present)
                div = div + F.cosine_similarity(mine[:, None, :], pseudos[None, :, :], dim=-1).max() / len(present)
            real_memory[c].extend(x0[y == c].reshape(int((y == c).sum()), -1).unbind(0))
            pseudo_memory[c].extend(mine.detach().unbind(0))
            del real_memory[c][:-memory]
            del pseudo_memory[c][:-memory]

        # + 0·Σeps: the first step (empty memories) has no term, and its gradient is zero.
        (REP_WEIGHT * rep + DIV_WEIGHT * div + 0 * eps.sum()).backward()
        tensors.update({f"x0_{s}": x0, f"xt_{s}": xt, f"t_{s}": t, f"eps_{s}": eps.detach(), f"labels_{s}": y,
                        f"x0hat_{s}": x0_hat.detach(), f"grad_{s}": eps.grad})
        params[f"rep_{s}"] = float(rep)
        params[f"div_{s}"] = float(div)
    for c in range(classes):
        params[f"count_{c}"] = len(real_memory[c])
        if real_memory[c]:
            tensors[f"real_memory_{c}"] = torch.stack(real_memory[c])
            tensors[f"pseudo_memory_{c}"] = torch.stack(pseudo_memory[c])
    w.case(name, tensors, params)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    w = Writer(args.out)
    # Three classes, memories of 3: class 2 first appears at step 2, class 1 is absent from step 1, and classes 0 and 1
    # overflow their memories (FIFO); one class has a single row in a batch.
    run_case(w, "minimax_m3", 11, classes=3, memory=3, shape=(2, 2, 2),
             labels_per_step=[[0, 1, 0, 1, 1], [0, 0, 0, 0], [2, 1, 0, 1, 2, 1], [1, 2, 0, 0, 1]])
    # Memories larger than everything seen: nothing is dropped.
    run_case(w, "minimax_m64", 12, classes=2, memory=64, shape=(4, 2, 2),
             labels_per_step=[[0, 1, 1], [1, 0, 0], [0, 1, 0]])
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"script": "tools/reference/minimax_reference.py", "torch": torch.__version__, "cases": w.cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(w.cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
