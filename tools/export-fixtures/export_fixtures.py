#!/usr/bin/python3
"""Export miniature PyTorch networks with the real architectures' shapes to ONNX,
together with reference inputs/outputs, as test fixtures for the C# ONNX -> TorchSharp
importer of Evlf.OnnxHybrid.

Run with the Debian interpreter that has torch (1.13) and onnx (1.12):

    /usr/bin/python3 tools/export-fixtures/export_fixtures.py \
        --out tests/Evlf.OnnxHybrid.Tests/Fixtures [--seed 0] [--variant default] [--only dit,unet]

Every fixture folder <out>/<fixture>/ holds
    model.onnx                (+ model.onnx.data for `external_data`)
    inputs/<input name>.pb    serialized onnx.TensorProto, batch 2
    outputs/<output name>.pb  serialized onnx.TensorProto, the PyTorch (CPU, float32, eval) outputs
    meta.json                 names, shapes, dtypes, opset, versions, seed, parameter count, op types

All modules below are written from scratch for this project; only architectural facts
(layer order, constants) follow the published models (DiT, SD-1.x UNet / KL-VAE, CLIP, BERT).
"""

import argparse
import collections
import json
import math
import os
import shutil
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import onnx
from onnx import numpy_helper

DEFAULT_OPSET = 17
EXTRA_OPSET = 13
OP13_MODELS = ("dit", "unet", "clip_text")
BATCH = 2

# ----------------------------------------------------------------------------------------
# Variants: the committed fixtures use "default". Other variants exist so that graphs that
# are NOT in the repository can be generated for acceptance checks.
# ----------------------------------------------------------------------------------------
VARIANTS = {
    "default": {
        "dit": dict(hidden=64, depth=2, heads=4, mlp_ratio=4.0, patch=2, in_ch=4, height=8, width=8,
                    num_classes=10, freq_dim=256, learn_sigma=True),
        "unet": dict(ch0=8, ch1=16, groups=4, head_dim=4, ctx_len=7, ctx_dim=32, in_ch=4, height=8, width=8,
                     ff_mult=4),
        "vae_decoder": dict(latent_ch=4, ch=(32, 16, 16), groups=8, height=8, width=8, out_ch=3),
        "clip_text": dict(vocab=100, hidden=32, layers=2, heads=4, mlp=128, max_pos=16, seq=8),
        "bert_text": dict(vocab=100, hidden=32, layers=2, heads=4, intermediate=128, max_pos=16, type_vocab=2,
                          seq=8),
        "bn_dropout": dict(in_ch=3, c1=8, c2=16, classes=5, height=8, width=8, p=0.5),
        "external_data": dict(in_features=16, hidden=32, out_features=8),
    },
    "small": {
        "dit": dict(hidden=32, depth=1, heads=2, mlp_ratio=4.0, patch=2, in_ch=4, height=4, width=4,
                    num_classes=5, freq_dim=64, learn_sigma=True),
        "unet": dict(ch0=8, ch1=12, groups=4, head_dim=4, ctx_len=3, ctx_dim=12, in_ch=4, height=4, width=4,
                     ff_mult=2),
        "vae_decoder": dict(latent_ch=4, ch=(16, 8, 8), groups=4, height=4, width=4, out_ch=3),
        "clip_text": dict(vocab=50, hidden=16, layers=1, heads=2, mlp=32, max_pos=8, seq=5),
        "bert_text": dict(vocab=50, hidden=16, layers=1, heads=2, intermediate=32, max_pos=8, type_vocab=2,
                          seq=5),
        "bn_dropout": dict(in_ch=3, c1=4, c2=8, classes=3, height=4, width=4, p=0.5),
        "external_data": dict(in_features=6, hidden=10, out_features=3),
    },
    "wide": {
        "dit": dict(hidden=96, depth=3, heads=6, mlp_ratio=4.0, patch=2, in_ch=4, height=12, width=12,
                    num_classes=20, freq_dim=256, learn_sigma=True),
        "unet": dict(ch0=32, ch1=64, groups=16, head_dim=16, ctx_len=11, ctx_dim=48, in_ch=4, height=12,
                     width=12, ff_mult=4),
        "vae_decoder": dict(latent_ch=4, ch=(48, 32, 16), groups=8, height=12, width=12, out_ch=3),
        "clip_text": dict(vocab=200, hidden=64, layers=3, heads=8, mlp=256, max_pos=24, seq=12),
        "bert_text": dict(vocab=200, hidden=64, layers=3, heads=8, intermediate=256, max_pos=24, type_vocab=2,
                          seq=12),
        "bn_dropout": dict(in_ch=3, c1=16, c2=32, classes=7, height=12, width=12, p=0.5),
        "external_data": dict(in_features=24, hidden=64, out_features=12),
    },
    # Deliberately awkward sizes: non-square latents, odd head counts, prime-ish lengths, so that
    # axis mix-ups (tokens vs head_dim, H vs W) cannot hide behind equal sizes.
    "odd": {
        "dit": dict(hidden=48, depth=3, heads=3, mlp_ratio=4.0, patch=2, in_ch=4, height=6, width=10,
                    num_classes=7, freq_dim=96, learn_sigma=True),
        "unet": dict(ch0=12, ch1=24, groups=6, head_dim=6, ctx_len=5, ctx_dim=20, in_ch=4, height=6, width=10,
                     ff_mult=4),
        "vae_decoder": dict(latent_ch=4, ch=(24, 12, 12), groups=6, height=6, width=10, out_ch=3),
        "clip_text": dict(vocab=77, hidden=40, layers=3, heads=5, mlp=96, max_pos=13, seq=11),
        "bert_text": dict(vocab=77, hidden=24, layers=3, heads=3, intermediate=72, max_pos=13, type_vocab=2,
                          seq=11),
        "bn_dropout": dict(in_ch=3, c1=6, c2=10, classes=4, height=6, width=10, p=0.5),
        "external_data": dict(in_features=11, hidden=19, out_features=5),
    },
}


# ----------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------
def sinusoidal_timestep_embedding(t, dim, max_period=10000.0):
    """t: (N,) integer or float timesteps -> (N, dim) float32, [cos | sin] halves."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    angles = t[:, None].to(torch.float32) * freqs[None, :]
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2 == 1:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


def sincos_1d(dim, positions):
    """positions: (M,) float64 numpy -> (M, dim) [sin | cos]."""
    assert dim % 2 == 0
    omega = np.arange(dim // 2, dtype=np.float64) / (dim / 2.0)
    omega = 1.0 / (10000.0 ** omega)
    angles = np.einsum("m,d->md", positions.reshape(-1).astype(np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d(dim, grid_h, grid_w):
    """Fixed 2-D sin-cos table (grid_h*grid_w, dim), row-major over (h, w).
    First half of the channels encodes the column (w) coordinate, second half the row (h)."""
    assert dim % 4 == 0
    hs, ws = np.meshgrid(np.arange(grid_h, dtype=np.float64), np.arange(grid_w, dtype=np.float64), indexing="ij")
    emb_w = sincos_1d(dim // 2, ws.reshape(-1))
    emb_h = sincos_1d(dim // 2, hs.reshape(-1))
    return np.concatenate([emb_w, emb_h], axis=1).astype(np.float32)


def reinit_(model, weight_gain=1.0, bias_std=0.05, norm_std=0.1, embed_std=0.5):
    """Re-initialise every parameter randomly (nothing zero, nothing identity) so that every path of
    the graph influences the outputs while activations stay O(1)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            fan_in = m.weight[0].numel()
            nn.init.normal_(m.weight, 0.0, weight_gain / math.sqrt(fan_in))
            if m.bias is not None:
                nn.init.normal_(m.bias, 0.0, bias_std)
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm2d)):
            if getattr(m, "weight", None) is not None:
                nn.init.normal_(m.weight, 1.0, norm_std)
            if getattr(m, "bias", None) is not None:
                nn.init.normal_(m.bias, 0.0, norm_std)
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.running_mean.normal_(0.0, 0.3)
                    m.running_var.uniform_(0.5, 2.0)
                    m.num_batches_tracked.fill_(17)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, embed_std)
    # free-standing parameters (learned position tables etc.)
    owned = set()
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.LayerNorm, nn.GroupNorm, nn.BatchNorm2d, nn.Embedding)):
            owned.update(id(p) for p in m.parameters(recurse=False))
    for name, p in model.named_parameters():
        if id(p) not in owned:
            nn.init.normal_(p, 0.0, 0.2)


class MultiHeadAttention(nn.Module):
    """Generic q/k/v attention used by the UNet transformer and the text encoders.
    x: (N, Lq, Dq), context: (N, Lk, Dk) -> (N, Lq, Dq). mask (additive) broadcast to (N, H, Lq, Lk)."""

    def __init__(self, query_dim, heads, head_dim, context_dim=None, qkv_bias=False, out_bias=True):
        super().__init__()
        context_dim = query_dim if context_dim is None else context_dim
        inner = heads * head_dim
        self.heads = heads
        self.head_dim = head_dim
        self.scale = head_dim ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=qkv_bias)
        self.to_k = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_v = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_out = nn.Linear(inner, query_dim, bias=out_bias)

    def _split_heads(self, t):
        n, length, _ = t.shape
        return t.reshape(n, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, context=None, additive_mask=None):
        context = x if context is None else context
        q = self._split_heads(self.to_q(x) * self.scale)
        k = self._split_heads(self.to_k(context))
        v = self._split_heads(self.to_v(context))
        scores = torch.matmul(q, k.transpose(-1, -2))
        if additive_mask is not None:
            scores = scores + additive_mask
        probs = scores.softmax(dim=-1)
        out = torch.matmul(probs, v)
        n, _, length, _ = out.shape
        out = out.transpose(1, 2).reshape(n, length, self.heads * self.head_dim)
        return self.to_out(out)


# ----------------------------------------------------------------------------------------
# 1. DiT (class-conditional, adaLN-Zero, learned sigma)
# ----------------------------------------------------------------------------------------
def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class DiTSelfAttention(nn.Module):
    """Fused qkv projection with bias, reshape (B,N,3,H,D) -> permute -> unbind, like timm's Attention."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class DiTMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate="tanh")
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class DiTBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = DiTSelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = DiTMlp(dim, int(dim * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim, bias=True))

    def forward(self, x, c):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


class DiTFinalLayer(nn.Module):
    def __init__(self, dim, patch, out_ch):
        super().__init__()
        self.norm_final = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(dim, patch * patch * out_ch, bias=True)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim, bias=True))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq_dim):
        super().__init__()
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, t):
        return self.mlp(sinusoidal_timestep_embedding(t, self.freq_dim))


class MiniDiT(nn.Module):
    def __init__(self, hidden, depth, heads, mlp_ratio, patch, in_ch, height, width, num_classes, freq_dim,
                 learn_sigma):
        super().__init__()
        self.patch = patch
        self.out_ch = in_ch * 2 if learn_sigma else in_ch
        self.grid_h = height // patch
        self.grid_w = width // patch
        self.x_embedder = nn.Conv2d(in_ch, hidden, kernel_size=patch, stride=patch, bias=True)
        self.t_embedder = TimestepEmbedder(hidden, freq_dim)
        self.y_embedder = nn.Embedding(num_classes + 1, hidden)  # last row = null class (CFG)
        self.register_buffer("pos_embed", torch.from_numpy(sincos_2d(hidden, self.grid_h, self.grid_w))[None],
                             persistent=False)
        self.blocks = nn.ModuleList([DiTBlock(hidden, heads, mlp_ratio) for _ in range(depth)])
        self.final_layer = DiTFinalLayer(hidden, patch, self.out_ch)

    def unpatchify(self, x):
        p, c = self.patch, self.out_ch
        x = x.reshape(x.shape[0], self.grid_h, self.grid_w, p, p, c)
        x = x.permute(0, 5, 1, 3, 2, 4)  # n h w p q c -> n c h p w q
        return x.reshape(x.shape[0], c, self.grid_h * p, self.grid_w * p)

    def forward(self, x, t, y):
        x = self.x_embedder(x).flatten(2).transpose(1, 2) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            x = block(x, c)
        x = self.final_layer(x, c)
        return self.unpatchify(x)


def build_dit(cfg, gen):
    model = MiniDiT(**cfg)
    reinit_(model)
    n = BATCH
    x = torch.randn(n, cfg["in_ch"], cfg["height"], cfg["width"], generator=gen)
    t = torch.randint(0, 1000, (n,), generator=gen, dtype=torch.int64)
    y = torch.randint(0, cfg["num_classes"], (n,), generator=gen, dtype=torch.int64)
    y[-1] = cfg["num_classes"]  # last row uses the null class
    inputs = collections.OrderedDict(x=x, t=t, y=y)
    outputs = ["out"]
    dyn = {"x": {0: "batch"}, "t": {0: "batch"}, "y": {0: "batch"}, "out": {0: "batch"}}
    notes = {"_int_ranges": {"t": 1000, "y": cfg["num_classes"] + 1},
             "y": "last row is the null class %d" % cfg["num_classes"],
             "out": "channels 0..%d eps, the rest learned-variance values" % (cfg["in_ch"] - 1)}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# 2. UNet (SD-style, text-conditioned)
# ----------------------------------------------------------------------------------------
class ResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, groups, temb_ch=None, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch, eps=eps)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_ch, out_ch) if temb_ch is not None else None
        self.norm2 = nn.GroupNorm(groups, out_ch, eps=eps)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        skip = x if self.skip is None else self.skip(x)
        return skip + h


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, b = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(b)  # exact (erf) GELU


class FeedForward(nn.Module):
    def __init__(self, dim, mult):
        super().__init__()
        inner = dim * mult
        self.net = nn.Sequential(GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim))

    def forward(self, x):
        return self.net(x)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, head_dim, context_dim, ff_mult):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = MultiHeadAttention(dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = MultiHeadAttention(dim, heads, head_dim, context_dim=context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, ff_mult)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context=context) + x
        x = self.ff(self.norm3(x)) + x
        return x


class SpatialTransformer(nn.Module):
    def __init__(self, ch, groups, head_dim, context_dim, ff_mult):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.proj_in = nn.Conv2d(ch, ch, 1)
        self.block = BasicTransformerBlock(ch, ch // head_dim, head_dim, context_dim, ff_mult)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x, context):
        n, c, h, w = x.shape
        residual = x
        x = self.proj_in(self.norm(x))
        x = x.permute(0, 2, 3, 1).reshape(n, h * w, c)
        x = self.block(x, context)
        x = x.reshape(n, h, w, c).permute(0, 3, 1, 2)
        return self.proj_out(x) + residual


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class MiniUNet(nn.Module):
    """conv_in -> [Res, Transformer] (skip s0) -> Down -> [Res] (skip s1) -> mid [Res, Transformer, Res]
    -> cat s1, Res -> Up -> cat s0, Res, Transformer -> GN, SiLU, conv_out."""

    def __init__(self, ch0, ch1, groups, head_dim, ctx_len, ctx_dim, in_ch, height, width, ff_mult):
        super().__init__()
        self.ch0 = ch0
        temb = 4 * ch0
        self.time_mlp = nn.Sequential(nn.Linear(ch0, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(in_ch, ch0, 3, padding=1)
        self.down0_res = ResBlock(ch0, ch0, groups, temb)
        self.down0_attn = SpatialTransformer(ch0, groups, head_dim, ctx_dim, ff_mult)
        self.down0_sample = Downsample(ch0)
        self.down1_res = ResBlock(ch0, ch1, groups, temb)
        self.mid_res1 = ResBlock(ch1, ch1, groups, temb)
        self.mid_attn = SpatialTransformer(ch1, groups, head_dim, ctx_dim, ff_mult)
        self.mid_res2 = ResBlock(ch1, ch1, groups, temb)
        self.up1_res = ResBlock(ch1 + ch1, ch1, groups, temb)
        self.up1_sample = Upsample(ch1)
        self.up0_res = ResBlock(ch1 + ch0, ch0, groups, temb)
        self.up0_attn = SpatialTransformer(ch0, groups, head_dim, ctx_dim, ff_mult)
        self.norm_out = nn.GroupNorm(groups, ch0, eps=1e-5)
        self.conv_out = nn.Conv2d(ch0, in_ch, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        timestep = timestep.expand(sample.shape[0])
        temb = self.time_mlp(sinusoidal_timestep_embedding(timestep, self.ch0))
        ctx = encoder_hidden_states
        h = self.conv_in(sample)
        h = self.down0_attn(self.down0_res(h, temb), ctx)
        s0 = h
        h = self.down1_res(self.down0_sample(h), temb)
        s1 = h
        h = self.mid_res2(self.mid_attn(self.mid_res1(h, temb), ctx), temb)
        h = self.up1_res(torch.cat([h, s1], dim=1), temb)
        h = self.up1_sample(h)
        h = self.up0_res(torch.cat([h, s0], dim=1), temb)
        h = self.up0_attn(h, ctx)
        return self.conv_out(F.silu(self.norm_out(h)))


def build_unet(cfg, gen):
    model = MiniUNet(**cfg)
    reinit_(model)
    n = BATCH
    sample = torch.randn(n, cfg["in_ch"], cfg["height"], cfg["width"], generator=gen)
    timestep = torch.randint(0, 1000, (n,), generator=gen, dtype=torch.int64)
    ehs = torch.randn(n, cfg["ctx_len"], cfg["ctx_dim"], generator=gen)
    inputs = collections.OrderedDict(sample=sample, timestep=timestep, encoder_hidden_states=ehs)
    outputs = ["out_sample"]
    dyn = {"sample": {0: "batch"}, "timestep": {0: "batch"},
           "encoder_hidden_states": {0: "batch", 1: "seq"}, "out_sample": {0: "batch"}}
    return model, inputs, outputs, dyn, {"_int_ranges": {"timestep": 1000}}


# ----------------------------------------------------------------------------------------
# 3. KL-VAE decoder
# ----------------------------------------------------------------------------------------
class SpatialSelfAttention(nn.Module):
    """Single-head attention over the H*W tokens, q/k/v/proj as Linear layers, residual."""

    def __init__(self, ch, groups):
        super().__init__()
        self.scale = 1.0 / math.sqrt(ch)
        self.norm = nn.GroupNorm(groups, ch, eps=1e-6)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.proj = nn.Linear(ch, ch)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.norm(x).reshape(n, c, h * w).transpose(1, 2)
        q, k, v = self.to_q(t), self.to_k(t), self.to_v(t)
        attn = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * self.scale, dim=-1)
        out = self.proj(torch.bmm(attn, v))
        out = out.transpose(1, 2).reshape(n, c, h, w)
        return x + out


class MiniVAEDecoder(nn.Module):
    def __init__(self, latent_ch, ch, groups, height, width, out_ch):
        super().__init__()
        c0, c1, c2 = ch
        self.post_quant_conv = nn.Conv2d(latent_ch, latent_ch, 1)
        self.conv_in = nn.Conv2d(latent_ch, c0, 3, padding=1)
        self.mid_res1 = ResBlock(c0, c0, groups, eps=1e-6)
        self.mid_attn = SpatialSelfAttention(c0, groups)
        self.mid_res2 = ResBlock(c0, c0, groups, eps=1e-6)
        self.up0_res = ResBlock(c0, c1, groups, eps=1e-6)
        self.up0_sample = Upsample(c1)
        self.up1_res = ResBlock(c1, c2, groups, eps=1e-6)
        self.up1_sample = Upsample(c2)
        self.norm_out = nn.GroupNorm(groups, c2, eps=1e-6)
        self.conv_out = nn.Conv2d(c2, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(self.post_quant_conv(z))
        h = self.mid_res2(self.mid_attn(self.mid_res1(h)))
        h = self.up0_sample(self.up0_res(h))
        h = self.up1_sample(self.up1_res(h))
        return self.conv_out(F.silu(self.norm_out(h)))


def build_vae_decoder(cfg, gen):
    model = MiniVAEDecoder(**cfg)
    reinit_(model)
    z = torch.randn(BATCH, cfg["latent_ch"], cfg["height"], cfg["width"], generator=gen)
    inputs = collections.OrderedDict(z=z)
    outputs = ["sample"]
    dyn = {"z": {0: "batch"}, "sample": {0: "batch"}}
    return model, inputs, outputs, dyn, {}


# ----------------------------------------------------------------------------------------
# 4. CLIP text encoder (causal, pre-LN, quick_gelu, argmax pooling)
# ----------------------------------------------------------------------------------------
class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ClipLayer(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.self_attn = MultiHeadAttention(dim, heads, dim // heads, qkv_bias=True)
        self.layer_norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.fc1 = nn.Linear(dim, mlp)
        self.act = QuickGELU()
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), additive_mask=mask)
        x = x + self.fc2(self.act(self.fc1(self.layer_norm2(x))))
        return x


class MiniClipText(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, mlp, max_pos, seq, mask_style="triu"):
        super().__init__()
        self.mask_style = mask_style
        self.token_embedding = nn.Embedding(vocab, hidden)
        self.position_embedding = nn.Embedding(max_pos, hidden)
        self.register_buffer("position_ids", torch.arange(max_pos, dtype=torch.int64)[None], persistent=False)
        self.layers = nn.ModuleList([ClipLayer(hidden, heads, mlp) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(hidden, eps=1e-5)

    def causal_mask(self, length, dtype):
        if self.mask_style == "triu":  # Trilu exists from opset 14 on
            mask = torch.full((length, length), float("-inf"), dtype=dtype).triu(1)
        else:  # opset 13: comparison of index ranges + Where
            idx = torch.arange(length)
            mask = torch.zeros(length, length, dtype=dtype).masked_fill(idx[None, :] > idx[:, None], float("-inf"))
        return mask[None, None]

    def forward(self, input_ids):
        length = input_ids.shape[1]
        pos = self.position_ids[:, :length]
        x = self.token_embedding(input_ids) + self.position_embedding(pos)
        mask = self.causal_mask(length, x.dtype)
        for layer in self.layers:
            x = layer(x, mask)
        x = self.final_layer_norm(x)
        eos = input_ids.argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eos]
        return x, pooled


def make_clip_ids(cfg, gen):
    n, length, vocab = BATCH, cfg["seq"], cfg["vocab"]
    eos = vocab - 1
    ids = torch.randint(1, eos, (n, length), generator=gen, dtype=torch.int64)
    ids[0, -1] = eos  # row 0: EOS is the last token
    # row 1: shorter prompt, EOS earlier, then pad id 0 (OpenAI-CLIP style), so that argmax pooling
    # must really gather (a "take the last position" shortcut would fail). The max stays unique.
    cut = max(1, length - 3)
    ids[1, cut] = eos
    ids[1, cut + 1:] = 0
    return ids


def build_clip_text(cfg, gen, opset):
    model = MiniClipText(**cfg, mask_style="triu" if opset >= 14 else "arange")
    reinit_(model)
    ids = make_clip_ids(cfg, gen)
    inputs = collections.OrderedDict(input_ids=ids)
    outputs = ["last_hidden_state", "pooler_output"]
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"},
           "pooler_output": {0: "batch"}}
    eos_pos = ids.argmax(dim=-1).tolist()
    notes = {"_int_ranges": {"input_ids": cfg["vocab"]},
             "input_ids": "EOS id %d at positions %s (row 0 last; row 1 earlier, followed by pad id 0); "
                          "max sequence length %d" % (cfg["vocab"] - 1, eos_pos, cfg["max_pos"]),
             "causal_mask": "triu (Trilu)" if opset >= 14 else "arange comparison + Where"}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# 5. BERT / MiniLM encoder (post-LN, erf GELU, padding mask)
# ----------------------------------------------------------------------------------------
class BertLayer(nn.Module):
    def __init__(self, dim, heads, intermediate):
        super().__init__()
        self.attention = MultiHeadAttention(dim, heads, dim // heads, qkv_bias=True)
        self.attention_norm = nn.LayerNorm(dim, eps=1e-12)
        self.intermediate = nn.Linear(dim, intermediate)
        self.output = nn.Linear(intermediate, dim)
        self.output_norm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, ext_mask):
        x = self.attention_norm(x + self.dropout(self.attention(x, additive_mask=ext_mask)))
        x = self.output_norm(x + self.dropout(self.output(F.gelu(self.intermediate(x)))))
        return x


class MiniBert(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, intermediate, max_pos, type_vocab, seq):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
        self.register_buffer("position_ids", torch.arange(max_pos, dtype=torch.int64)[None], persistent=False)
        self.embeddings_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.embeddings_dropout = nn.Dropout(0.1)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, intermediate) for _ in range(layers)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        length = input_ids.shape[1]
        pos = self.position_ids[:, :length]
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + \
            self.token_type_embeddings(token_type_ids)
        x = self.embeddings_dropout(self.embeddings_norm(x))
        ext = attention_mask[:, None, None, :].to(x.dtype)
        ext = (1.0 - ext) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, ext)
        return x


def build_bert_text(cfg, gen):
    model = MiniBert(**cfg)
    reinit_(model)
    n, length = BATCH, cfg["seq"]
    ids = torch.randint(3, cfg["vocab"], (n, length), generator=gen, dtype=torch.int64)
    ids[:, 0] = 1  # "[CLS]"
    mask = torch.ones(n, length, dtype=torch.int64)
    valid = max(2, length - 3)
    mask[1, valid:] = 0  # row 1 has trailing padding
    ids[1, valid - 1] = 2  # "[SEP]"
    ids[1, valid:] = 0  # "[PAD]"
    ids[0, -1] = 2
    types = torch.zeros(n, length, dtype=torch.int64)
    inputs = collections.OrderedDict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    outputs = ["last_hidden_state"]
    dyn = {k: {0: "batch", 1: "seq"} for k in list(inputs) + outputs}
    notes = {"_int_ranges": {"input_ids": cfg["vocab"], "attention_mask": 2, "token_type_ids": cfg["type_vocab"]},
             "attention_mask": "row 1 has %d trailing zeros" % (length - valid)}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# 6. BatchNorm + Dropout conv net
# ----------------------------------------------------------------------------------------
class BnDropoutNet(nn.Module):
    def __init__(self, in_ch, c1, c2, classes, height, width, p):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, c1, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(c2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p)
        self.fc = nn.Linear(c2, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.dropout(torch.flatten(self.pool(x), 1))
        return self.fc(x)


def build_bn_dropout(cfg, gen):
    model = BnDropoutNet(**cfg)
    reinit_(model)
    x = torch.randn(BATCH, cfg["in_ch"], cfg["height"], cfg["width"], generator=gen)
    inputs = collections.OrderedDict(x=x)
    outputs = ["logits"]
    dyn = {"x": {0: "batch"}, "logits": {0: "batch"}}
    notes = {"export": "training=TrainingMode.PRESERVE on an eval() model, so BatchNormalization is kept "
                       "(not folded into Conv) with its running statistics; eval-mode Dropout is dropped "
                       "by the exporter"}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# 7. External-data MLP
# ----------------------------------------------------------------------------------------
class TinyMlp(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def build_external_data(cfg, gen):
    model = TinyMlp(**cfg)
    reinit_(model)
    x = torch.randn(BATCH, cfg["in_features"], generator=gen)
    inputs = collections.OrderedDict(x=x)
    outputs = ["y"]
    dyn = {"x": {0: "batch"}, "y": {0: "batch"}}
    notes = {"external_data": "all initializers in model.onnx.data (size_threshold=0, one file)"}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# Fixture table
# ----------------------------------------------------------------------------------------
BUILDERS = {
    "dit": lambda cfg, gen, opset: build_dit(cfg, gen),
    "unet": lambda cfg, gen, opset: build_unet(cfg, gen),
    "vae_decoder": lambda cfg, gen, opset: build_vae_decoder(cfg, gen),
    "clip_text": build_clip_text,
    "bert_text": lambda cfg, gen, opset: build_bert_text(cfg, gen),
    "bn_dropout": lambda cfg, gen, opset: build_bn_dropout(cfg, gen),
    "external_data": lambda cfg, gen, opset: build_external_data(cfg, gen),
}


def fixture_table():
    """fixture name -> (model kind, opset)"""
    table = collections.OrderedDict()
    for kind in BUILDERS:
        table[kind] = (kind, DEFAULT_OPSET)
        if kind in OP13_MODELS:
            table["%s_op%d" % (kind, EXTRA_OPSET)] = (kind, EXTRA_OPSET)
    return table


def fixture_seed(base_seed, kind):
    # the opset-13 twin shares weights and inputs with its opset-17 fixture
    return (base_seed * 1000003 + zlib.crc32(kind.encode("utf-8"))) % (2 ** 31)


# ----------------------------------------------------------------------------------------
# Exporter work-around: torch 1.13's opset-17 LayerNormalization symbolic passes an empty
# scale/bias input when the LayerNorm has no affine parameters (DiT's elementwise_affine=False),
# which the ONNX checker rejects. Later torch versions emit constant ones/zeros instead; do the same.
# ----------------------------------------------------------------------------------------
def _install_layer_norm_17_fix():
    from torch.onnx import symbolic_helper as sh

    @sh.parse_args("v", "is", "v", "v", "f", "none")
    def layer_norm_17(g, inp, normalized_shape, weight, bias, eps, cudnn_enable):
        shape = list(normalized_shape)
        if sh._is_none(weight):
            weight = g.op("Constant", value_t=torch.ones(shape, dtype=torch.float32))
        if sh._is_none(bias):
            bias = g.op("Constant", value_t=torch.zeros(shape, dtype=torch.float32))
        return g.op("LayerNormalization", inp, weight, bias, epsilon_f=eps, axis_i=-len(shape))

    torch.onnx.register_custom_op_symbolic("aten::layer_norm", layer_norm_17, 17)


# ----------------------------------------------------------------------------------------
# Export, reference data, verification
# ----------------------------------------------------------------------------------------
NP_DTYPE_NAMES = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.int32): "int32",
                  np.dtype(np.float64): "float64", np.dtype(np.bool_): "bool"}


def write_tensor(path, arr, name):
    tp = numpy_helper.from_array(np.ascontiguousarray(arr), name)
    with open(path, "wb") as f:
        f.write(tp.SerializeToString())


def onnx_value_info(vi):
    tt = vi.type.tensor_type
    dims = []
    for d in tt.shape.dim:
        if d.HasField("dim_param"):
            dims.append(d.dim_param)
        elif d.HasField("dim_value"):
            dims.append(d.dim_value)
        else:
            dims.append(None)
    return {"name": vi.name, "elem_type": onnx.TensorProto.DataType.Name(tt.elem_type).lower(), "dims": dims}


def op_histogram(graph):
    hist = collections.Counter()

    def visit(g):
        for node in g.node:
            key = node.op_type if node.domain in ("", "ai.onnx") else "%s:%s" % (node.domain, node.op_type)
            hist[key] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)

    visit(graph)
    return hist


def _as_tuple(out):
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


def check_every_path_matters(name, model, inputs, int_ranges):
    """(1) every parameter receives a non-zero gradient from a random projection of the outputs
    (no dead branch, no zero gate); (2) perturbing any single input changes the outputs."""
    args = tuple(inputs.values())
    model.zero_grad(set_to_none=True)
    outs = _as_tuple(model(*args))
    g = torch.Generator().manual_seed(12345)
    loss = sum((o * torch.randn(o.shape, generator=g)).sum() for o in outs)
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or float(p.grad.abs().max()) < 1e-9]
    model.zero_grad(set_to_none=True)
    if dead:
        raise RuntimeError("%s: parameters without gradient (dead path): %s" % (name, dead))
    with torch.no_grad():
        base = _as_tuple(model(*args))
        for k, v in inputs.items():
            if v.dtype.is_floating_point:
                pert = v + 0.1 * torch.randn(v.shape, generator=g)
            else:
                pert = (v + 1) % int_ranges[k]
            changed = _as_tuple(model(*[pert if kk == k else vv for kk, vv in inputs.items()]))
            delta = max(float((a - b).abs().max()) for a, b in zip(base, changed))
            if delta < 1e-4:
                raise RuntimeError("%s: output does not depend on input %s" % (name, k))


def folder_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def export_fixture(name, kind, opset, variant, base_seed, out_root):
    cfg = dict(VARIANTS[variant][kind])
    seed = fixture_seed(base_seed, kind)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model, inputs, output_names, dynamic_axes, notes = BUILDERS[kind](cfg, gen, opset)
    model = model.float().eval()
    int_ranges = notes.pop("_int_ranges", {})
    check_every_path_matters(name, model, inputs, int_ranges)

    folder = os.path.join(out_root, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(os.path.join(folder, "inputs"))
    os.makedirs(os.path.join(folder, "outputs"))
    model_path = os.path.join(folder, "model.onnx")

    input_names = list(inputs)
    args = tuple(inputs[k] for k in input_names)
    with torch.no_grad():
        ref = model(*args)
    if isinstance(ref, torch.Tensor):
        ref = (ref,)
    assert len(ref) == len(output_names)

    training = torch.onnx.TrainingMode.PRESERVE if kind == "bn_dropout" else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        torch.onnx.export(model, args, model_path, export_params=True, opset_version=opset,
                          do_constant_folding=True, input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, training=training)

    external = kind == "external_data"
    if external:
        m = onnx.load(model_path)
        onnx.save_model(m, model_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=0)

    # ---- verification -------------------------------------------------------------------
    onnx.checker.check_model(model_path, full_check=True)  # path form resolves external data
    m = onnx.load(model_path)  # loads external data too
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    graph_inputs = [vi for vi in m.graph.input if vi.name not in {i.name for i in m.graph.initializer}]
    got_in = [vi.name for vi in graph_inputs]
    got_out = [vi.name for vi in m.graph.output]
    if got_in != input_names or got_out != output_names:
        raise RuntimeError("%s: graph io %s -> %s, expected %s -> %s" % (name, got_in, got_out, input_names,
                                                                        output_names))
    for vi in list(graph_inputs) + list(m.graph.output):
        dim0 = vi.type.tensor_type.shape.dim[0]
        if dim0.dim_param != "batch":
            raise RuntimeError("%s: %s has no dynamic batch axis" % (name, vi.name))
    if external:
        if any(init.data_location != onnx.TensorProto.EXTERNAL for init in
               onnx.load(model_path, load_external_data=False).graph.initializer):
            raise RuntimeError("external_data: some initializer is stored inline")
    hist = op_histogram(m.graph)
    if any(op in hist for op in ("If", "Loop", "Scan")):
        print("WARNING: %s contains control flow: %s" % (name, sorted(k for k in hist if k in ("If", "Loop",
                                                                                                 "Scan"))))
    init_elems = 0
    zero_inits = []
    for init in m.graph.initializer:
        arr = numpy_helper.to_array(init)
        init_elems += int(arr.size)
        if arr.size > 1 and arr.dtype.kind == "f" and not np.any(arr):
            zero_inits.append(init.name)

    # ---- reference tensors ----------------------------------------------------------------
    io_meta_in, io_meta_out = [], []
    for vi, k in zip(graph_inputs, input_names):
        arr = inputs[k].numpy()
        write_tensor(os.path.join(folder, "inputs", k + ".pb"), arr, k)
        d = onnx_value_info(vi)
        entry = {"name": k, "shape": list(arr.shape), "dtype": NP_DTYPE_NAMES[arr.dtype],
                 "onnx_dims": d["dims"], "file": "inputs/%s.pb" % k}
        if k in int_ranges:
            entry["valid_range"] = [0, int_ranges[k]]  # [low, high) for random test inputs
        io_meta_in.append(entry)
    out_stats = {}
    for vi, k, t in zip(m.graph.output, output_names, ref):
        arr = t.detach().numpy()
        if not np.all(np.isfinite(arr)):
            raise RuntimeError("%s: non-finite reference output %s" % (name, k))
        write_tensor(os.path.join(folder, "outputs", k + ".pb"), arr, k)
        d = onnx_value_info(vi)
        io_meta_out.append({"name": k, "shape": list(arr.shape), "dtype": NP_DTYPE_NAMES[arr.dtype],
                            "onnx_dims": d["dims"], "file": "outputs/%s.pb" % k})
        out_stats[k] = {"mean": float(arr.mean()), "std": float(arr.std()), "absmax": float(np.abs(arr).max())}
        if arr.dtype.kind == "f" and not (1e-2 < arr.std() < 50.0):
            print("WARNING: %s output %s has std %.3g" % (name, k, arr.std()))

    param_count = int(sum(p.numel() for p in model.parameters()))
    buffer_count = int(sum(b.numel() for b in model.buffers()))
    files = {}
    for root, _, fs in os.walk(folder):
        for f in fs:
            full = os.path.join(root, f)
            files[os.path.relpath(full, folder).replace(os.sep, "/")] = os.path.getsize(full)
    opset_imports = {(o.domain or "ai.onnx"): o.version for o in m.opset_import}
    meta = collections.OrderedDict([
        ("fixture", name),
        ("model", kind),
        ("variant", variant),
        ("opset", opset),
        ("opset_import", opset_imports),
        ("ir_version", m.ir_version),
        ("producer", "%s %s" % (m.producer_name, m.producer_version)),
        ("torch_version", torch.__version__),
        ("onnx_version", onnx.__version__),
        ("seed", base_seed),
        ("fixture_seed", seed),
        ("config", cfg),
        ("batch", BATCH),
        ("inputs", io_meta_in),
        ("outputs", io_meta_out),
        ("dynamic_axes", dynamic_axes),
        ("param_count", param_count),
        ("buffer_elements", buffer_count),
        ("onnx_initializer_count", len(m.graph.initializer)),
        ("onnx_initializer_elements", init_elems),
        ("external_data", external),
        ("export_training_mode", str(training).split(".")[-1]),
        ("op_types", sorted(hist)),
        ("op_histogram", dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))),
        ("node_count", int(sum(hist.values()))),
        ("output_stats", out_stats),
        ("notes", notes),
        ("files", files),
    ])
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")

    size = folder_size(folder)
    top = ", ".join("%s:%d" % kv for kv in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    print("%-18s opset %d  params %7d  nodes %4d  size %7.1f KB  top[%s]" % (
        name, opset, param_count, sum(hist.values()), size / 1024.0, top))
    print("%-18s ops: %s" % ("", " ".join(sorted(hist))))
    if zero_inits:
        print("%-18s note: all-zero float initializers (exporter constants): %s" % ("", zero_inits))
    return name, opset, hist, size


def _io_str(entry):
    return "%s %s[%s]" % (entry["name"], entry["dtype"], ",".join(str(d) for d in entry["onnx_dims"]))


def write_index(out_root):
    """index.json over every fixture folder present in out_root (so partial --only runs stay consistent)."""
    fixtures = []
    union = collections.defaultdict(set)
    total = 0
    for entry in sorted(os.listdir(out_root)):
        meta_path = os.path.join(out_root, entry, "meta.json")
        if not os.path.isfile(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        size = folder_size(os.path.join(out_root, entry))
        total += size
        union[str(meta["opset"])].update(meta["op_types"])
        fixtures.append(collections.OrderedDict([
            ("fixture", meta["fixture"]), ("model", meta["model"]), ("variant", meta["variant"]),
            ("opset", meta["opset"]), ("seed", meta["seed"]), ("param_count", meta["param_count"]),
            ("bytes", size),
            ("inputs", [_io_str(i) for i in meta["inputs"]]),
            ("outputs", [_io_str(o) for o in meta["outputs"]]),
        ]))
    index = collections.OrderedDict([
        ("generator", "tools/export-fixtures/export_fixtures.py"),
        ("fixtures", fixtures),
        ("op_types_by_opset", {k: sorted(v) for k, v in sorted(union.items())}),
        ("total_bytes", total),
    ])
    with open(os.path.join(out_root, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


def main(argv=None):
    table = fixture_table()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (fixture folders are created inside)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    ap.add_argument("--only", default="", help="comma-separated fixture names: " + ",".join(table))
    args = ap.parse_args(argv)

    names = list(table)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in table]
        if unknown:
            ap.error("unknown fixture(s) %s; known: %s" % (unknown, ", ".join(table)))

    # Known, harmless exporter chatter (kept out of the summary): the prim::Constant shape-inference
    # notice comes from the LayerNorm work-around's Constant nodes; the PRESERVE warning concerns models
    # in training mode (bn_dropout is in eval mode); argmax indices for advanced indexing are >= 0.
    for pattern in ("The shape inference of prim::Constant type is missing",
                    "It is recommended that constant folding be turned off",
                    "Exporting aten::index operator of advanced indexing"):
        warnings.filterwarnings("ignore", message=pattern)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    _install_layer_norm_17_fix()
    os.makedirs(args.out, exist_ok=True)
    print("torch %s, onnx %s, variant %s, seed %d -> %s" % (torch.__version__, onnx.__version__, args.variant,
                                                             args.seed, args.out))
    union = collections.defaultdict(set)
    total = 0
    for name in names:
        kind, opset = table[name]
        _, opset, hist, size = export_fixture(name, kind, opset, args.variant, args.seed, args.out)
        union[opset].update(hist)
        total += size
    for opset in sorted(union):
        print("union of op types at opset %d (%d): %s" % (opset, len(union[opset]), " ".join(sorted(union[opset]))))
    print("total size of the %d fixture folders: %.1f KB" % (len(names), total / 1024.0))
    write_index(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
