#!/usr/bin/python3
"""PyTorch reference for EVLF stage A of Evlf.OnnxHybrid (namespace Evlf.OnnxHybrid.Fusion).

Writes small parity vectors that tests/Evlf.OnnxHybrid.Tests/Fusion/FusionReferenceTests.cs compares against.
Run with the Debian interpreter that has torch (1.13) and onnx (1.12):

    /usr/bin/python3 tools/reference/fusion_reference.py \
        --models tests/Evlf.OnnxHybrid.Tests/Fusion/Models \
        --out tests/Evlf.OnnxHybrid.Tests/Fusion/Vectors

Inputs: one folder per case under --models holding fusion.onnx and projector.onnx (written by C#:
CrossAttentionFusion.Build / BuildProjector with seeded noise added to every initializer, so no LayerNorm
weight is 1 and no bias 0) and config.json (the FusionConfig). Only the initializers are read from the ONNX
files, never the graph: the modules below are written from docs/PIPELINES.md §2 and loaded with
load_state_dict(strict=True), so a renamed, missing or reshaped weight fails here.

Layout (as tools/reference/diffusion_reference.py): <out>/<case>/<name>.pb is a serialized onnx.TensorProto
(onnx.numpy_helper) and <out>/<case>/params.json holds the case's scalars; <out>/index.json lists the cases.
The output is deterministic (byte-identical on rerun).

Per case:
  inputs (float32)  z_img (6, 4, S, S) seeded latents; labels (6,) int64 with repeats and one singleton
                    (multi-positive); class_tokens (3, L, D) the fusion's text input, indexed by label;
                    class_vectors (3, D) the InfoNCE targets, indexed by label.
  outputs (float64) z_fused = F(z_img, class_tokens[labels]) and embedding = P(z_fused), eval mode (no
                    dropout); params info_nce (Eq. 11 as released: symmetric, multi-positive, logit scale
                    float32(log(1/0.07)), the value FusionTrainer's float32 parameter holds), mse (Eq. 9 as a
                    mean), loss = λ1·info_nce + λ2·mse (Eq. 12; λ1 = 0.1, λ2 per case);
                    one optimisation step as FusionTrainer/TrainingLoop take it: backward, clip the global L2
                    norm of the gradients of every fusion and projector parameter to 1.0 (params grad_norm is
                    the norm before clipping), then torch.optim.AdamW with two groups (fusion lr 3e-4,
                    projector lr 1e-4, weight decay 1e-2, default betas and eps); grad.<module>.<name> is each
                    clipped gradient, updated.<module>.<name> each weight after the step.
Everything is computed in float64 from the stored float32 values; the C# side runs float32.

Check (commands; the test prints what it measured):

    nice dotnet test tests/Evlf.OnnxHybrid.Tests --filter FullyQualifiedName~FusionReferenceTests \
        --logger "console;verbosity=detailed"

To rewrite the model fixtures (after a change to CrossAttentionFusion), then rebuild and rerun this script:

    EVLF_WRITE_FUSION_MODELS=1 dotnet test tests/Evlf.OnnxHybrid.Tests \
        --filter FullyQualifiedName~FusionReferenceTests.CommittedModels

Tolerances asserted (importer and FusionLosses in float32 against this float64 reference) and the worst
difference measured over both cases with torch 1.13 / TorchSharp 0.107 on CPU:
  z_fused, embedding                  max |Δ| < 1e-5                      6.1e-7, 9.1e-7
  info_nce, mse end to end            |Δ| < 1e-5                          6.8e-7, 1.9e-7
  info_nce, mse by FusionLosses on the float64 z_fused/embedding
                                      |Δ| < 1e-10                         4.4e-16, 0
  loss                                |Δ| < 1e-5                          2.7e-7
  grad_norm (before clipping)         relative < 1e-5                     4.1e-8
  clipped gradients                   max |Δ| / max |g| per tensor < 1e-5 1.5e-6
  updated weights                     |Δ| ≤ 1e-6·(|w| + lr) + lr·δ·ε/(min|g| + ε)²
                                      3.8e-7·(|w| + lr) on all but 34 of 37 672 (s32) and 32 of 22 312 (s8)
                                      elements whose gradient is within float32 noise of ε (32 are the key
                                      part of in_proj_bias, whose gradient is 0 since softmax ignores a shift
                                      shared by every key); there AdamW's first step
                                      lr·g/(|g| + ε) has no reliable direction, and the bound (δ: the compared
                                      gradients' difference) allows what was measured (≤ 9.4e-6).
"""

import argparse
import json
import math
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

F64 = torch.float64
BATCH = 6
CLASSES = 3
LABELS = [2, 0, 1, 0, 2, 2]          # class 2 three times, class 0 twice, class 1 alone
LAMBDA1 = 0.1
TEMPERATURE = 0.07
LR_FUSION, LR_PROJECTOR, WEIGHT_DECAY, CLIP = 3e-4, 1e-4, 1e-2, 1.0

# λ2 of each case: mid-ramp and end of ramp (FusionLosses.Lambda2).
CASES = {
    "released_s8": {"lambda2": 0.525, "seed": 0},
    "prenorm_refresh_s32": {"lambda2": 1.0, "seed": 1},
}


# --------------------------------------------------------------------------------------------
# The modules, from docs/PIPELINES.md §2
# --------------------------------------------------------------------------------------------

class FusionLayer(nn.Module):
    """Image tokens attend over the key/value sequence, then a 2x FFN; LayerNorm after (post) or before (pre) each residual."""

    def __init__(self, width, heads, dropout, pre_norm):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = nn.MultiheadAttention(width, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(width)
        self.ffn = nn.Sequential(nn.Linear(width, 2 * width), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(2 * width, width), nn.Dropout(dropout))
        self.norm2 = nn.LayerNorm(width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, kv):
        if self.pre_norm:
            q = self.norm1(x)
            x = x + self.drop(self.attn(q, kv, kv, need_weights=False)[0])
            return x + self.ffn(self.norm2(x))
        x = self.norm1(x + self.drop(self.attn(x, kv, kv, need_weights=False)[0]))
        return self.norm2(x + self.ffn(x))


class CrossAttentionFusion(nn.Module):
    """z_fused = F(z_img, e_text): 1x1 conv to tokens + learned positions, text projection, attention layers
    whose keys/values are [image tokens; text tokens] (built once, or before every layer when refreshed),
    back to the grid, 1x1 conv. No residual to z_img."""

    def __init__(self, cfg):
        super().__init__()
        c, d, s = cfg["LatentChannels"], cfg["Width"], cfg["LatentSize"]
        self.refresh = cfg["RefreshKeyValues"]
        self.latent_proj = nn.Conv2d(c, d, 1)
        self.pos_embed = nn.Parameter(torch.zeros(1, s * s, d))
        self.text_proj = nn.Linear(cfg["TextDim"], d)
        self.layers = nn.ModuleList(FusionLayer(d, cfg["Heads"], cfg["Dropout"], cfg["PreNorm"])
                                    for _ in range(cfg["Layers"]))
        self.out_proj = nn.Conv2d(d, c, 1)

    def forward(self, z_img, e_text):
        n, _, h, w = z_img.shape
        x = self.latent_proj(z_img).flatten(2).transpose(1, 2) + self.pos_embed
        t = self.text_proj(e_text)
        kv = torch.cat([x, t], dim=1)
        for i, layer in enumerate(self.layers):
            if self.refresh and i > 0:
                kv = torch.cat([x, t], dim=1)
            x = layer(x, kv)
        return self.out_proj(x.transpose(1, 2).reshape(n, -1, h, w))


class LatentProjector(nn.Module):
    """P(z): conv (kernel = stride = k), adaptive average pool to PxP, flatten, Linear to the text width, LayerNorm."""

    def __init__(self, cfg):
        super().__init__()
        k, p, ch = cfg["ProjectorKernel"], cfg["ProjectorPool"], cfg["ProjectorChannels"]
        self.conv = nn.Conv2d(cfg["LatentChannels"], ch, k, stride=k)
        self.pool = nn.AdaptiveAvgPool2d(p)
        self.fc = nn.Linear(ch * p * p, cfg["TextDim"])
        self.norm = nn.LayerNorm(cfg["TextDim"])

    def forward(self, z):
        return self.norm(self.fc(self.pool(self.conv(z)).flatten(1)))


def load_initializers(module, path):
    state = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(F64) for t in onnx.load(path).graph.initializer}
    module.to(F64).load_state_dict(state, strict=True)
    return module.eval()


# --------------------------------------------------------------------------------------------
# Losses (paper Eqs. 9, 11, 12 as the released code computes them)
# --------------------------------------------------------------------------------------------

def info_nce(projected, text_vectors, labels, logit_scale):
    """Eq. 11 in both directions: row i's loss is −log(Σ_j M_ij e^{s_ij} / Σ_j e^{s_ij}) + log Σ_j M_ij (the
    released code averages over the positives rather than summing them), s = exp(logit_scale)·cos."""
    u = projected / projected.norm(dim=1, keepdim=True)
    v = text_vectors / text_vectors.norm(dim=1, keepdim=True)
    s = math.exp(logit_scale) * (u @ v.T)
    m = (labels[:, None] == labels[None, :]).to(s.dtype)

    def rows(scores):
        e = torch.exp(scores - scores.max(dim=1, keepdim=True).values)
        return (-torch.log((m * e).sum(1) / e.sum(1)) + torch.log(m.sum(1))).mean()

    return (rows(s) + rows(s.T)) / 2


def mse(z_fused, z_img):
    """Eq. 9 as a mean over elements."""
    return ((z_fused - z_img) ** 2).mean()


# The training recipe's condition corruption and λ2 ramp (FusionTrainingOptions defaults).
NULL_CONDITION, TOKEN_DROPOUT, CONDITION_NOISE = 0.2, 0.1, 0.01
LAMBDA2_START, LAMBDA2_END = 0.05, 1.0


def micro_batch_loss(fusion, projector, z, y, class_tokens, class_vectors, logit_scale, micro, ramp, generator):
    """One micro-batch of fusion training: the class text, nulled with probability 0.2 or token-dropped and noised,
    fused with z; returns λ1·InfoNCE + λ2·MSE, the InfoNCE, the MSE and λ2 (ramped over `ramp` micro-batches)."""
    text = class_tokens[y]
    if torch.rand(1, generator=generator).item() < NULL_CONDITION:
        cond = torch.zeros_like(text)
    else:
        keep = (torch.rand(text.shape, generator=generator) >= TOKEN_DROPOUT).to(text.dtype)
        cond = text * keep / (1 - TOKEN_DROPOUT) + torch.randn(text.shape, generator=generator) * CONDITION_NOISE
    fused = fusion(z, cond)
    nce = info_nce(projector(fused), class_vectors[y], y, logit_scale)
    rec = mse(fused, z)
    lambda2 = LAMBDA2_END if ramp <= 0 else LAMBDA2_START + (LAMBDA2_END - LAMBDA2_START) * min(1.0, micro / ramp)
    return LAMBDA1 * nce + lambda2 * rec, nce, rec, lambda2


def clip_gradients(parameters, max_norm):
    """Global L2 clipping as torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when below 1."""
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in parameters))
    coef = max_norm / (norm + 1e-6)
    if coef < 1:
        for p in parameters:
            p.grad.mul_(coef)
    return float(norm)


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------

def write_tensor(folder, name, value):
    arr = value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    with open(os.path.join(folder, name + ".pb"), "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name).SerializeToString())


def run_case(models, out, name, spec):
    with open(os.path.join(models, name, "config.json")) as f:
        cfg = json.load(f)
    fusion = load_initializers(CrossAttentionFusion(cfg), os.path.join(models, name, "fusion.onnx"))
    projector = load_initializers(LatentProjector(cfg), os.path.join(models, name, "projector.onnx"))

    g = torch.Generator().manual_seed(spec["seed"])
    s, c = cfg["LatentSize"], cfg["LatentChannels"]
    labels = torch.tensor(LABELS, dtype=torch.int64)
    # Latents with a per-class offset, so the classes differ in their images as well as their text.
    z_img = (torch.randn(BATCH, c, s, s, generator=g) + 0.5 * labels.view(-1, 1, 1, 1)).float()
    class_tokens = torch.randn(CLASSES, cfg["TextLength"], cfg["TextDim"], generator=g).float()
    class_vectors = torch.randn(CLASSES, cfg["TextDim"], generator=g).float()
    logit_scale = float(np.float32(math.log(1 / TEMPERATURE)))

    z64 = z_img.to(F64)
    z_fused = fusion(z64, class_tokens.to(F64)[labels])
    embedding = projector(z_fused)
    nce = info_nce(embedding, class_vectors.to(F64)[labels], labels, logit_scale)
    rec = mse(z_fused, z64)
    loss = LAMBDA1 * nce + spec["lambda2"] * rec

    named = [(f"fusion.{k}", p) for k, p in fusion.named_parameters()] + \
            [(f"projector.{k}", p) for k, p in projector.named_parameters()]
    optimizer = torch.optim.AdamW([
        {"params": list(fusion.parameters()), "lr": LR_FUSION},
        {"params": list(projector.parameters()), "lr": LR_PROJECTOR},
    ], weight_decay=WEIGHT_DECAY)
    optimizer.zero_grad()
    loss.backward()
    grad_norm = clip_gradients([p for _, p in named], CLIP)
    grads = {k: p.grad.clone() for k, p in named}
    optimizer.step()

    folder = os.path.join(out, name)
    os.makedirs(folder)
    tensors = {"z_img": z_img, "labels": labels, "class_tokens": class_tokens, "class_vectors": class_vectors,
               "z_fused": z_fused, "embedding": embedding}
    tensors.update({f"grad.{k}": v for k, v in grads.items()})
    tensors.update({f"updated.{k}": p for k, p in named})
    for key, value in tensors.items():
        write_tensor(folder, key, value)
    defaults = optimizer.defaults
    params = {
        "lambda1": LAMBDA1, "lambda2": spec["lambda2"], "temperature": TEMPERATURE, "logit_scale": logit_scale,
        "lr_fusion": LR_FUSION, "lr_projector": LR_PROJECTOR, "weight_decay": WEIGHT_DECAY,
        "clip_grad_norm": CLIP, "betas": list(defaults["betas"]), "eps": defaults["eps"],
        "info_nce": float(nce), "mse": float(rec), "loss": float(loss), "grad_norm": grad_norm,
        "clipped": grad_norm > CLIP,
    }
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: info_nce {float(nce):.6f} mse {float(rec):.6f} loss {float(loss):.6f} grad_norm {grad_norm:.6f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    cases = sorted(CASES)
    missing = [c for c in cases if not os.path.isdir(os.path.join(args.models, c))]
    if missing:
        raise SystemExit(f"{args.models} lacks the model folders {missing}; write them with "
                         "EVLF_WRITE_FUSION_MODELS=1 dotnet test --filter FullyQualifiedName~FusionReferenceTests.CommittedModels")
    for name in cases:
        run_case(args.models, args.out, name, CASES[name])
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"script": "tools/reference/fusion_reference.py", "torch": torch.__version__,
                   "onnx": onnx.__version__, "numpy": np.__version__, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
