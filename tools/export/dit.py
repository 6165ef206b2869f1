"""DiT (Peebles & Xie) keyed to the official state-dict names: x_embedder.proj, t_embedder.mlp.0/2,
y_embedder.embedding_table (num_classes + 1 rows, the last is the null class), pos_embed (fixed),
blocks.{i}.{attn.qkv, attn.proj, mlp.fc1, mlp.fc2, adaLN_modulation.1}, final_layer.{linear, adaLN_modulation.1},
and the optional DiffFit scale vectors blocks.{i}.gamma1/gamma2 (hidden) and blocks.{i}.attn.gamma1 (3·hidden,
on the qkv output) / attn.gamma2 (hidden, on the proj output).

forward(x (N,C,H,W) float, t (N,) int64, y (N,) int64) → (N, C_out, H, W); C_out = 2·C with learned sigma
(channels 0..C−1 ε, C..2C−1 the variance interpolation v). Written for this project from the paper's facts:
adaLN-Zero blocks (shift/scale/gate ×2), LayerNorm eps 1e-6 without affine, tanh-GELU MLP, timestep sinusoid
[cos | sin] with max period 10000."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from checkpoints import CheckpointError, count_indexed, load_strict, require, strip_prefix

LN_EPS = 1e-6
MAX_PERIOD = 10000.0


class DitConfig:
    """What the checkpoint's shapes say, plus the head count (not in the shapes; DiT-XL/2: 16)."""

    def __init__(self, sd, num_heads=16, latent_size=None):
        w = require(sd, "x_embedder.proj.weight", "DiT")
        self.hidden, self.in_channels, self.patch = int(w.shape[0]), int(w.shape[1]), int(w.shape[2])
        self.depth = count_indexed(sd, "blocks.")
        self.freq_dim = int(require(sd, "t_embedder.mlp.0.weight", "DiT").shape[1])
        self.table_rows = int(require(sd, "y_embedder.embedding_table.weight", "DiT").shape[0])
        self.num_classes = self.table_rows - 1  # the last row is the null (unconditional) class
        self.mlp_hidden = int(require(sd, "blocks.0.mlp.fc1.weight", "DiT").shape[0])
        out = int(require(sd, "final_layer.linear.weight", "DiT").shape[0])
        if out % (self.patch * self.patch):
            raise CheckpointError("DiT: final_layer.linear has %d outputs, not a multiple of patch² = %d"
                                  % (out, self.patch ** 2))
        self.out_channels = out // (self.patch * self.patch)
        self.learned_sigma = self.out_channels == 2 * self.in_channels
        if "pos_embed" in sd:
            tokens = int(sd["pos_embed"].shape[-2])
            grid = int(round(math.sqrt(tokens)))
            if grid * grid != tokens:
                raise CheckpointError("DiT: pos_embed has %d positions, not a square grid" % tokens)
            read = grid * self.patch
            if latent_size not in (None, read):
                raise CheckpointError("DiT: --latent-size %d disagrees with pos_embed, which is for latents of "
                                      "side %d" % (latent_size, read))
            self.latent_size = read
        elif latent_size is None:
            raise CheckpointError("DiT: the checkpoint has no pos_embed; give --latent-size (32 for 256 px, "
                                  "64 for 512 px)")
        else:
            self.latent_size = latent_size
        if self.hidden % num_heads:
            raise CheckpointError("DiT: hidden width %d is not divisible by --num-heads %d" % (self.hidden, num_heads))
        self.num_heads = num_heads
        self.gamma_blocks = [i for i in range(self.depth) if "blocks.%d.gamma1" % i in sd]

    def describe(self):
        return ("DiT: depth %d, hidden %d, %d heads, patch %d, latent %d×%d×%d → %d channels (%s), %d classes "
                "+ null, timestep sinusoid %d, MLP %d%s" % (
                    self.depth, self.hidden, self.num_heads, self.patch, self.in_channels, self.latent_size,
                    self.latent_size, self.out_channels, "learned sigma" if self.learned_sigma else "ε only",
                    self.num_classes, self.freq_dim, self.mlp_hidden,
                    ", DiffFit gammas in blocks %s" % self.gamma_blocks if self.gamma_blocks else ""))


def sincos_pos_embed(hidden, grid):
    """The fixed 2-D table DiT initialises pos_embed with (used only when a checkpoint lacks pos_embed):
    half of the channels encode one grid axis, half the other, each as [sin | cos] of pos·10000^(−2i/d)."""
    def one_axis(dim, pos):
        omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
        angles = np.outer(pos.reshape(-1), omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    cols, rows = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64))
    table = np.concatenate([one_axis(hidden // 2, cols), one_axis(hidden // 2, rows)], axis=1)
    return torch.from_numpy(table.astype(np.float32))[None]


def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class Attention(nn.Module):
    def __init__(self, hidden, heads, gamma):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        if gamma:
            self.gamma1 = nn.Parameter(torch.ones(3 * hidden))
            self.gamma2 = nn.Parameter(torch.ones(hidden))
        else:
            self.gamma1 = self.gamma2 = None

    def forward(self, x):
        n, tokens, hidden = x.shape
        qkv = self.qkv(x)
        if self.gamma1 is not None:
            qkv = qkv * self.gamma1
        qkv = qkv.reshape(n, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # as timm's Attention, which the official DiT uses
        probs = torch.matmul(q * self.head_dim ** -0.5, k.transpose(-2, -1)).softmax(dim=-1)
        out = self.proj(torch.matmul(probs, v).transpose(1, 2).reshape(n, tokens, hidden))
        return out if self.gamma2 is None else out * self.gamma2


class Mlp(nn.Module):
    def __init__(self, hidden, mlp_hidden):
        super().__init__()
        self.fc1 = nn.Linear(hidden, mlp_hidden)
        self.fc2 = nn.Linear(mlp_hidden, hidden)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    """adaLN-Zero: SiLU → Linear(hidden → 6·hidden) gives shift/scale/gate for attention and MLP."""

    def __init__(self, cfg, gamma):
        super().__init__()
        h = cfg.hidden
        self.norm1 = nn.LayerNorm(h, elementwise_affine=False, eps=LN_EPS)
        self.attn = Attention(h, cfg.num_heads, gamma)
        self.norm2 = nn.LayerNorm(h, elementwise_affine=False, eps=LN_EPS)
        self.mlp = Mlp(h, cfg.mlp_hidden)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(h, 6 * h))
        if gamma:
            self.gamma1 = nn.Parameter(torch.ones(h))
            self.gamma2 = nn.Parameter(torch.ones(h))
        else:
            self.gamma1 = self.gamma2 = None

    def forward(self, x, c):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=1)
        a = gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + (a if self.gamma1 is None else self.gamma1 * a)
        m = gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x + (m if self.gamma2 is None else self.gamma2 * m)


class FinalLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm_final = nn.LayerNorm(cfg.hidden, elementwise_affine=False, eps=LN_EPS)
        self.linear = nn.Linear(cfg.hidden, cfg.patch * cfg.patch * cfg.out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(cfg.hidden, 2 * cfg.hidden))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class TimestepEmbedder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.freq_dim = cfg.freq_dim
        self.mlp = nn.Sequential(nn.Linear(cfg.freq_dim, cfg.hidden), nn.SiLU(), nn.Linear(cfg.hidden, cfg.hidden))

    def forward(self, t):
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(MAX_PERIOD) * torch.arange(half, dtype=torch.float32) / half)
        angles = t[:, None].to(torch.float32) * freqs[None]
        emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        if self.freq_dim % 2:
            emb = F.pad(emb, (0, 1))
        return self.mlp(emb)


class PatchEmbed(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.proj = nn.Conv2d(cfg.in_channels, cfg.hidden, cfg.patch, stride=cfg.patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # (N, T, hidden), row-major over the patch grid


class LabelEmbedder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embedding_table = nn.Embedding(cfg.table_rows, cfg.hidden)

    def forward(self, y):
        return self.embedding_table(y)


class DiT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.x_embedder = PatchEmbed(cfg)
        self.t_embedder = TimestepEmbedder(cfg)
        self.y_embedder = LabelEmbedder(cfg)
        grid = cfg.latent_size // cfg.patch
        self.register_buffer("pos_embed", sincos_pos_embed(cfg.hidden, grid))
        gammas = set(cfg.gamma_blocks)
        self.blocks = nn.ModuleList([Block(cfg, i in gammas) for i in range(cfg.depth)])
        self.final_layer = FinalLayer(cfg)

    def unpatchify(self, x):
        """(N, T, p·p·C) → (N, C, H, W): token (h, w) holds a p×p patch, channels last."""
        c, p, g = self.cfg.out_channels, self.cfg.patch, self.cfg.latent_size // self.cfg.patch
        x = x.reshape(-1, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(-1, c, g * p, g * p)

    def forward(self, x, t, y):
        h = self.x_embedder(x) + self.pos_embed
        c = self.t_embedder(t) + self.y_embedder(y)
        for block in self.blocks:
            h = block(h, c)
        return self.unpatchify(self.final_layer(h, c))


def add_difffit_gammas(sd, depth):
    """DiffFit vectors (ones, as DiffFit initialises them) for the first half of the blocks that lack them, so
    a fine-tune can train them; an identity at export time."""
    sd = dict(sd)
    hidden = sd["x_embedder.proj.weight"].shape[0]
    added = []
    for i in range(depth // 2):
        if "blocks.%d.gamma1" % i in sd:
            continue
        sd["blocks.%d.gamma1" % i] = torch.ones(hidden)
        sd["blocks.%d.gamma2" % i] = torch.ones(hidden)
        sd["blocks.%d.attn.gamma1" % i] = torch.ones(3 * hidden)
        sd["blocks.%d.attn.gamma2" % i] = torch.ones(hidden)
        added.append(i)
    return sd, added


def build(sd, num_heads=16, latent_size=None, difffit=False):
    """(DitConfig, module) with the checkpoint loaded strictly. pos_embed comes from the checkpoint when present."""
    sd = strip_prefix(sd, ("module.", "model."))
    added = []
    if difffit:
        sd, added = add_difffit_gammas(sd, count_indexed(sd, "blocks."))
    cfg = DitConfig(sd, num_heads, latent_size)
    model = DiT(cfg)
    if "pos_embed" not in sd:
        sd = dict(sd, pos_embed=model.pos_embed.clone())
    sd = dict(sd, pos_embed=sd["pos_embed"].reshape(model.pos_embed.shape))
    load_strict(model, sd, "DiT")
    cfg.added_gamma_blocks = added
    return cfg, model.eval()
