"""Building blocks shared by the Stable Diffusion VAE and UNet, keyed to diffusers' state-dict names
(resnets.{j}.norm1/conv1/time_emb_proj/norm2/conv2/conv_shortcut, downsamplers.0.conv, upsamplers.0.conv,
attention to_q/to_k/to_v/to_out.0). Each block is built from the shapes of its own weights, so a block never
needs to be told its widths. Written for this project from the architecture's published facts."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_from(sd, prefix, stride=1):
    """nn.Conv2d shaped like the weight `prefix.weight` (square kernel, 'same' padding for odd kernels)."""
    w = sd[prefix + ".weight"]
    out_ch, in_ch, k, _ = w.shape
    padding = k // 2 if stride == 1 else 0
    return nn.Conv2d(in_ch, out_ch, k, stride=stride, padding=padding, bias=(prefix + ".bias") in sd)


def linear_from(sd, prefix):
    w = sd[prefix + ".weight"]
    return nn.Linear(w.shape[1], w.shape[0], bias=(prefix + ".bias") in sd)


def group_norm_from(sd, prefix, groups, eps):
    channels = sd[prefix + ".weight"].shape[0]
    if channels % groups:
        raise ValueError("%s has %d channels, which %d groups do not divide; pass the right group count "
                         "(--vae-groups / --unet-groups)" % (prefix, channels, groups))
    return nn.GroupNorm(groups, channels, eps=eps, affine=True)


def timestep_sinusoid(timesteps, dim, flip_sin_to_cos, freq_shift, max_period=10000.0):
    """diffusers' get_timestep_embedding: exponent −ln(max_period)·i/(half − shift); [sin | cos], or [cos | sin]
    when flipped (SD 1.x: flipped, shift 0)."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32) / (half - freq_shift)
    angles = timesteps[:, None].to(torch.float32) * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class ResnetBlock2D(nn.Module):
    """GN → SiLU → conv1 (+ time projection) → GN → SiLU → conv2, plus a 1×1 shortcut when widths differ."""

    def __init__(self, sd, prefix, groups, eps):
        super().__init__()
        self.norm1 = group_norm_from(sd, prefix + ".norm1", groups, eps)
        self.conv1 = conv_from(sd, prefix + ".conv1")
        self.time_emb_proj = linear_from(sd, prefix + ".time_emb_proj") if prefix + ".time_emb_proj.weight" in sd \
            else None
        self.norm2 = group_norm_from(sd, prefix + ".norm2", groups, eps)
        self.conv2 = conv_from(sd, prefix + ".conv2")
        self.conv_shortcut = conv_from(sd, prefix + ".conv_shortcut") if prefix + ".conv_shortcut.weight" in sd \
            else None
        self.in_channels = self.conv1.in_channels
        self.out_channels = self.conv2.out_channels
        if self.conv_shortcut is None and self.in_channels != self.out_channels:
            raise ValueError("%s maps %d to %d channels but has no conv_shortcut" % (prefix, self.in_channels,
                                                                                    self.out_channels))

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        skip = x if self.conv_shortcut is None else self.conv_shortcut(x)
        return skip + h


class Downsample2D(nn.Module):
    """3×3 stride-2 conv. The VAE pads (0,1,0,1) and convolves without padding; the UNet pads 1 on every side."""

    def __init__(self, sd, prefix, asymmetric_pad):
        super().__init__()
        self.asymmetric_pad = asymmetric_pad
        self.conv = conv_from(sd, prefix + ".conv", stride=2)
        if not asymmetric_pad:
            self.conv.padding = (1, 1)

    def forward(self, x):
        if self.asymmetric_pad:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Upsample2D(nn.Module):
    """Nearest ×2, then a 3×3 conv."""

    def __init__(self, sd, prefix):
        super().__init__()
        self.conv = conv_from(sd, prefix + ".conv")

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Attention(nn.Module):
    """Multi-head attention over tokens (N, L, D): to_q/to_k/to_v (bias when the checkpoint has one), softmax
    with scale 1/√head_dim, to_out.0. Keys and values come from `context` when given (cross-attention)."""

    def __init__(self, sd, prefix, heads):
        super().__init__()
        self.to_q = linear_from(sd, prefix + ".to_q")
        self.to_k = linear_from(sd, prefix + ".to_k")
        self.to_v = linear_from(sd, prefix + ".to_v")
        self.to_out = nn.ModuleList([linear_from(sd, prefix + ".to_out.0")])
        inner = self.to_q.out_features
        if inner % heads:
            raise ValueError("%s has inner width %d, which %d heads do not divide" % (prefix, inner, heads))
        self.heads = heads
        self.head_dim = inner // heads

    def _split(self, t):
        n, length, _ = t.shape
        return t.reshape(n, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, context=None):
        context = x if context is None else context
        q = self._split(self.to_q(x)) * (self.head_dim ** -0.5)
        k = self._split(self.to_k(context))
        v = self._split(self.to_v(context))
        probs = torch.matmul(q, k.transpose(-1, -2)).softmax(dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2)
        n, length = out.shape[0], out.shape[1]
        return self.to_out[0](out.reshape(n, length, self.heads * self.head_dim))


class SpatialSelfAttention(Attention):
    """The VAE mid-block attention: GN, one head over the H·W positions, residual."""

    def __init__(self, sd, prefix, groups, eps):
        super().__init__(sd, prefix, heads=1)
        self.group_norm = group_norm_from(sd, prefix + ".group_norm", groups, eps)

    def forward(self, x):
        n, c, h, w = x.shape
        tokens = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)
        out = super().forward(tokens).transpose(1, 2).reshape(n, c, h, w)
        return out + x


# diffusers before 0.15 named the VAE attention weights query/key/value/proj_attn (and some conversions stored
# them as 1×1 convolutions); map them to the current names.
_LEGACY_ATTENTION = {".query.": ".to_q.", ".key.": ".to_k.", ".value.": ".to_v.", ".proj_attn.": ".to_out.0."}


def modernise_attention_names(sd):
    out = {}
    for k, v in sd.items():
        if ".attentions." in k:
            for old, new in _LEGACY_ATTENTION.items():
                if old in k:
                    k = k.replace(old, new)
            if k.endswith(".weight") and v.dim() == 4 and v.shape[2:] == (1, 1) and \
                    any(s in k for s in (".to_q.", ".to_k.", ".to_v.", ".to_out.0.")):
                v = v[:, :, 0, 0]
        out[k] = v
    return out
