"""The Stable Diffusion UNet (diffusers UNet2DConditionModel naming):
sample (N,4,h,w), timestep (N,) int64, encoder_hidden_states (N,L,D) → noise_pred (N,4,h,w).

From the shapes: the widths and number of levels, resnets per level, which levels have transformers (and how
many transformer blocks each), which levels resample, the cross-attention width D, the time-embedding widths,
the GEGLU width, linear vs 1×1-conv projections (SD 2.x vs 1.x), in/out channels. Not in the shapes (taken
from config.json when it is beside the weights, else flags with SD 1.x defaults): the head count per level
(diffusers' attention_head_dim, which for SD 1.x is the number of heads: 8), GroupNorm groups (32), the
time sinusoid's flip_sin_to_cos (true) and freq_shift (0)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkpoints import CheckpointError, count_indexed, load_strict, require, strip_prefix
from sd_blocks import Attention, Downsample2D, ResnetBlock2D, Upsample2D, conv_from, group_norm_from, \
    linear_from, timestep_sinusoid

RESNET_EPS = 1e-5
TRANSFORMER_GN_EPS = 1e-6
LN_EPS = 1e-5


# config.json settings that change the computation in ways the module below does not implement.
_SUPPORTED_CONFIG = {
    "center_input_sample": (False,), "resnet_time_scale_shift": ("default",), "act_fn": ("silu",),
    "time_embedding_type": ("positional",), "only_cross_attention": (False,), "dual_cross_attention": (False,),
    "timestep_post_act": (None,), "time_cond_proj_dim": (None,), "class_embed_type": (None,),
    "addition_embed_type": (None,), "resnet_out_scale_factor": (1.0, 1), "mid_block_type":
        ("UNetMidBlock2DCrossAttn", None), "attention_type": ("default",),
}


def _per_level(value, levels, what):
    if value is None:
        return None
    if isinstance(value, int):
        return [value] * levels
    if len(value) != levels:
        raise CheckpointError("UNet: %s has %d entries for %d levels" % (what, len(value), levels))
    return list(value)


class UNetConfig:
    def __init__(self, sd, config, heads=None, groups=None):
        self.levels = count_indexed(sd, "down_blocks.")
        if self.levels == 0 or count_indexed(sd, "up_blocks.") != self.levels:
            raise CheckpointError("UNet: expected as many up_blocks as down_blocks (found %d and %d)"
                                  % (self.levels, count_indexed(sd, "up_blocks.")))
        self.widths = [int(require(sd, "down_blocks.%d.resnets.0.conv1.weight" % i, "UNet").shape[0])
                       for i in range(self.levels)]
        self.layers_per_block = count_indexed(sd, "down_blocks.0.resnets.")
        self.attention_levels = [i for i in range(self.levels) if "down_blocks.%d.attentions.0.proj_in.weight" % i
                                 in sd]
        self.in_channels = int(require(sd, "conv_in.weight", "UNet").shape[1])
        self.out_channels = int(require(sd, "conv_out.weight", "UNet").shape[0])
        self.time_proj_dim = int(require(sd, "time_embedding.linear_1.weight", "UNet").shape[1])
        self.time_embed_dim = int(sd["time_embedding.linear_1.weight"].shape[0])
        ctx = [k for k in sd if k.endswith("attn2.to_k.weight")]
        self.cross_attention_dim = int(sd[ctx[0]].shape[1]) if ctx else None
        self.linear_projection = any(k.endswith("proj_in.weight") and sd[k].dim() == 2 for k in sd)
        # diffusers: num_attention_heads defaults to attention_head_dim (a misnomer kept for SD 1.x configs)
        configured = config.get("num_attention_heads") or config.get("attention_head_dim")
        self.heads = _per_level(heads or configured or 8, self.levels, "the head count")
        self.groups = groups or config.get("norm_num_groups", 32)
        self.flip_sin_to_cos = config.get("flip_sin_to_cos", True)
        self.freq_shift = config.get("freq_shift", 0)
        self.sample_size = config.get("sample_size")
        unsupported = [k for k in sd if k.startswith(("class_embedding.", "add_embedding.", "encoder_hid_proj."))]
        if unsupported:
            raise CheckpointError("UNet: %s… are not supported (SD 1.x/2.x text-conditioned UNets only)"
                                  % unsupported[0])
        for key, supported in _SUPPORTED_CONFIG.items():
            values = config.get(key, supported[0])
            if any(v not in supported for v in (values if isinstance(values, list) else [values])):
                raise CheckpointError("UNet: config.json has %s = %r, which this exporter does not implement "
                                      "(supported: %s)" % (key, config[key], supported))

    def describe(self):
        return ("UNet: widths %s, %d resnets per level, transformers at levels %s, cross-attention width %s, "
                "heads %s, GroupNorm(%d), time embedding %d→%d, %s projections"
                % (self.widths, self.layers_per_block, self.attention_levels, self.cross_attention_dim,
                   self.heads, self.groups, self.time_proj_dim, self.time_embed_dim,
                   "linear" if self.linear_projection else "1×1 conv"))


class FeedForward(nn.Module):
    """net.0 = GEGLU (one Linear to 2·inner, value · GELU(gate)), net.2 = Linear back."""

    def __init__(self, sd, prefix):
        super().__init__()
        self.net = nn.ModuleList([_Geglu(sd, prefix + ".net.0"), nn.Dropout(0.0), linear_from(sd, prefix + ".net.2")])

    def forward(self, x):
        return self.net[2](self.net[0](x))


class _Geglu(nn.Module):
    def __init__(self, sd, prefix):
        super().__init__()
        self.proj = linear_from(sd, prefix + ".proj")

    def forward(self, x):
        value, gate = self.proj(x).chunk(2, dim=-1)
        return value * F.gelu(gate)


class TransformerBlock(nn.Module):
    def __init__(self, sd, prefix, heads):
        super().__init__()
        dim = sd[prefix + ".norm1.weight"].shape[0]
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn1 = Attention(sd, prefix + ".attn1", heads)
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn2 = Attention(sd, prefix + ".attn2", heads)
        self.norm3 = nn.LayerNorm(dim, eps=LN_EPS)
        self.ff = FeedForward(sd, prefix + ".ff")

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer2D(nn.Module):
    """GN → proj_in → transformer blocks over the H·W tokens → proj_out, residual."""

    def __init__(self, sd, prefix, heads, groups):
        super().__init__()
        self.norm = group_norm_from(sd, prefix + ".norm", groups, TRANSFORMER_GN_EPS)
        self.linear = sd[prefix + ".proj_in.weight"].dim() == 2
        make = linear_from if self.linear else conv_from
        self.proj_in = make(sd, prefix + ".proj_in")
        self.transformer_blocks = nn.ModuleList([
            TransformerBlock(sd, "%s.transformer_blocks.%d" % (prefix, k), heads)
            for k in range(count_indexed(sd, prefix + ".transformer_blocks."))])
        self.proj_out = make(sd, prefix + ".proj_out")

    def forward(self, x, context):
        n, c, h, w = x.shape
        residual = x
        x = self.norm(x)
        if self.linear:
            x = self.proj_in(x.permute(0, 2, 3, 1).reshape(n, h * w, c))
        else:
            x = self.proj_in(x)
            x = x.permute(0, 2, 3, 1).reshape(n, h * w, x.shape[1])
        for block in self.transformer_blocks:
            x = block(x, context)
        if self.linear:
            x = self.proj_out(x).reshape(n, h, w, c).permute(0, 3, 1, 2)
        else:
            x = self.proj_out(x.reshape(n, h, w, x.shape[-1]).permute(0, 3, 1, 2))
        return x + residual


class Level(nn.Module):
    """A down or up block: resnets, each optionally followed by a transformer; then an optional resampler."""

    def __init__(self, sd, prefix, heads, groups, kind):
        super().__init__()
        count = count_indexed(sd, prefix + ".resnets.")
        self.resnets = nn.ModuleList([ResnetBlock2D(sd, "%s.resnets.%d" % (prefix, j), groups, RESNET_EPS)
                                      for j in range(count)])
        has_attn = count_indexed(sd, prefix + ".attentions.")
        if has_attn not in (0, count):
            raise CheckpointError("UNet: %s has %d resnets but %d transformers" % (prefix, count, has_attn))
        self.attentions = nn.ModuleList([Transformer2D(sd, "%s.attentions.%d" % (prefix, j), heads, groups)
                                         for j in range(has_attn)])
        self.kind = kind
        if kind == "down":
            self.downsamplers = nn.ModuleList([Downsample2D(sd, prefix + ".downsamplers.0", False)]
                                              if prefix + ".downsamplers.0.conv.weight" in sd else [])
        else:
            self.upsamplers = nn.ModuleList([Upsample2D(sd, prefix + ".upsamplers.0")]
                                            if prefix + ".upsamplers.0.conv.weight" in sd else [])

    def down(self, x, temb, context, skips):
        for j, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if len(self.attentions):
                x = self.attentions[j](x, context)
            skips.append(x)
        for d in self.downsamplers:
            x = d(x)
            skips.append(x)
        return x

    def up(self, x, temb, context, skips):
        for j, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if len(self.attentions):
                x = self.attentions[j](x, context)
        for u in self.upsamplers:
            x = u(x)
        return x


class MidBlock(nn.Module):
    def __init__(self, sd, prefix, heads, groups):
        super().__init__()
        count = count_indexed(sd, prefix + ".resnets.")
        self.resnets = nn.ModuleList([ResnetBlock2D(sd, "%s.resnets.%d" % (prefix, j), groups, RESNET_EPS)
                                      for j in range(count)])
        self.attentions = nn.ModuleList([Transformer2D(sd, "%s.attentions.%d" % (prefix, j), heads, groups)
                                         for j in range(count_indexed(sd, prefix + ".attentions."))])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            x = resnet(attn(x, context), temb)
        return x


class TimestepEmbedding(nn.Module):
    def __init__(self, sd):
        super().__init__()
        self.linear_1 = linear_from(sd, "time_embedding.linear_1")
        self.linear_2 = linear_from(sd, "time_embedding.linear_2")

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet(nn.Module):
    def __init__(self, sd, cfg):
        super().__init__()
        self.cfg = cfg
        self.time_embedding = TimestepEmbedding(sd)
        self.conv_in = conv_from(sd, "conv_in")
        self.down_blocks = nn.ModuleList([Level(sd, "down_blocks.%d" % i, cfg.heads[i], cfg.groups, "down")
                                          for i in range(cfg.levels)])
        self.mid_block = MidBlock(sd, "mid_block", cfg.heads[-1], cfg.groups)
        up_heads = list(reversed(cfg.heads))
        self.up_blocks = nn.ModuleList([Level(sd, "up_blocks.%d" % i, up_heads[i], cfg.groups, "up")
                                        for i in range(cfg.levels)])
        self.conv_norm_out = group_norm_from(sd, "conv_norm_out", cfg.groups, RESNET_EPS)
        self.conv_out = conv_from(sd, "conv_out")

    def forward(self, sample, timestep, encoder_hidden_states):
        cfg = self.cfg
        timestep = timestep.expand(sample.shape[0])  # as diffusers: one timestep for the batch broadcasts
        temb = self.time_embedding(timestep_sinusoid(timestep, cfg.time_proj_dim, cfg.flip_sin_to_cos,
                                                     cfg.freq_shift))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x = block.down(x, temb, encoder_hidden_states, skips)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            x = block.up(x, temb, encoder_hidden_states, skips)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


def build(sd, config, heads=None, groups=None):
    """(UNetConfig, module) with the checkpoint loaded strictly."""
    sd = strip_prefix(sd, ("model.diffusion_model.",))
    if "conv_in.weight" not in sd and any(k.startswith("input_blocks.") for k in sd):
        raise CheckpointError("UNet: this is an original (CompVis/LDM) checkpoint; convert it to diffusers naming "
                              "first (diffusers' convert_original_stable_diffusion_to_diffusers.py)")
    cfg = UNetConfig(sd, config, heads, groups)
    model = UNet(sd, cfg)
    load_strict(model, sd, "UNet")
    return cfg, model.eval()
