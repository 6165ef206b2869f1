"""The Stable Diffusion KL autoencoder (diffusers AutoencoderKL naming) as two modules:
VaeEncoder: image (N,3,S,S) in [−1,1] → posterior mean and log-variance (N,4,S/f,S/f), and
VaeDecoder: latent (N,4,S/f,S/f), unscaled (the caller divides by the scaling factor) → image.

Everything structural is read from the state dict: levels, resnets per level, widths, which levels
downsample, whether the mid block has attention, image and latent channels. Not in the shapes: the
GroupNorm group count (config.json norm_num_groups, else 32), the image size (config.json sample_size, else
512) and the latent scaling factor (config.json scaling_factor, else 0.18215)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkpoints import CheckpointError, count_indexed, load_strict, require
from sd_blocks import Downsample2D, ResnetBlock2D, SpatialSelfAttention, Upsample2D, conv_from, group_norm_from, \
    modernise_attention_names

EPS = 1e-6  # every VAE GroupNorm
LOGVAR_RANGE = (-30.0, 20.0)  # the posterior clamps its log-variance to this range


def downsampling_levels(sd):
    """How many encoder levels halve the image (the VAE's factor is 2 to this power; SD: 3, factor 8)."""
    return sum(1 for k in sd if k.startswith("encoder.down_blocks.") and k.endswith(".downsamplers.0.conv.weight"))


class VaeConfig:
    def __init__(self, sd, config, groups=None, image_size=None, scaling_factor=None):
        enc = require(sd, "encoder.conv_in.weight", "VAE")
        self.image_channels = int(enc.shape[1])
        self.latent_channels = int(require(sd, "decoder.conv_in.weight", "VAE").shape[1])
        self.levels = count_indexed(sd, "encoder.down_blocks.")
        self.widths = [int(sd["encoder.down_blocks.%d.resnets.0.conv1.weight" % i].shape[0])
                       for i in range(self.levels)]
        self.layers_per_block = count_indexed(sd, "encoder.down_blocks.0.resnets.")
        self.downsamples = downsampling_levels(sd)
        if config.get("act_fn", "silu") != "silu":
            raise CheckpointError("VAE: config.json has act_fn = %r; only silu is implemented" % config["act_fn"])
        self.groups = groups or config.get("norm_num_groups", 32)
        self.image_size = image_size or config.get("sample_size", 512)
        self.scaling_factor = scaling_factor or config.get("scaling_factor", 0.18215)
        if self.image_size % (2 ** self.downsamples):
            raise CheckpointError("image size %d is not divisible by the VAE's downsampling factor %d"
                                  % (self.image_size, 2 ** self.downsamples))
        self.latent_size = self.image_size // (2 ** self.downsamples)

    def describe(self):
        return ("VAE: image %d×%d×%d ↔ latent %d×%d×%d; widths %s, %d resnets per level, GroupNorm(%d), "
                "scaling factor %g" % (self.image_channels, self.image_size, self.image_size, self.latent_channels,
                                       self.latent_size, self.latent_size, self.widths, self.layers_per_block,
                                       self.groups, self.scaling_factor))


class Level(nn.Module):
    """One encoder down block or decoder up block: resnets, then an optional resampler."""

    def __init__(self, sd, prefix, groups, kind):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(sd, "%s.resnets.%d" % (prefix, j), groups, EPS)
                                      for j in range(count_indexed(sd, prefix + ".resnets."))])
        sampler = "downsamplers" if kind == "down" else "upsamplers"
        has = "%s.%s.0.conv.weight" % (prefix, sampler) in sd
        if kind == "down":
            self.downsamplers = nn.ModuleList([Downsample2D(sd, prefix + ".downsamplers.0", True)] if has else [])
        else:
            self.upsamplers = nn.ModuleList([Upsample2D(sd, prefix + ".upsamplers.0")] if has else [])
        self.kind = kind

    def forward(self, x):
        for r in self.resnets:
            x = r(x)
        for s in (self.downsamplers if self.kind == "down" else self.upsamplers):
            x = s(x)
        return x


class MidBlock(nn.Module):
    """resnet, [attention, resnet]…"""

    def __init__(self, sd, prefix, groups):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(sd, "%s.resnets.%d" % (prefix, j), groups, EPS)
                                      for j in range(count_indexed(sd, prefix + ".resnets."))])
        self.attentions = nn.ModuleList([SpatialSelfAttention(sd, "%s.attentions.%d" % (prefix, j), groups, EPS)
                                         for j in range(count_indexed(sd, prefix + ".attentions."))])

    def forward(self, x):
        x = self.resnets[0](x)
        for attn, resnet in zip(self.attentions, self.resnets[1:]):
            x = resnet(attn(x))
        return x


class _Encoder(nn.Module):
    def __init__(self, sd, groups):
        super().__init__()
        self.conv_in = conv_from(sd, "encoder.conv_in")
        self.down_blocks = nn.ModuleList([Level(sd, "encoder.down_blocks.%d" % i, groups, "down")
                                          for i in range(count_indexed(sd, "encoder.down_blocks."))])
        self.mid_block = MidBlock(sd, "encoder.mid_block", groups)
        self.conv_norm_out = group_norm_from(sd, "encoder.conv_norm_out", groups, EPS)
        self.conv_out = conv_from(sd, "encoder.conv_out")

    def forward(self, x):
        x = self.conv_in(x)
        for block in self.down_blocks:
            x = block(x)
        return self.conv_out(F.silu(self.conv_norm_out(self.mid_block(x))))


class _Decoder(nn.Module):
    def __init__(self, sd, groups):
        super().__init__()
        self.conv_in = conv_from(sd, "decoder.conv_in")
        self.mid_block = MidBlock(sd, "decoder.mid_block", groups)
        self.up_blocks = nn.ModuleList([Level(sd, "decoder.up_blocks.%d" % i, groups, "up")
                                        for i in range(count_indexed(sd, "decoder.up_blocks."))])
        self.conv_norm_out = group_norm_from(sd, "decoder.conv_norm_out", groups, EPS)
        self.conv_out = conv_from(sd, "decoder.conv_out")

    def forward(self, z):
        x = self.mid_block(self.conv_in(z))
        for block in self.up_blocks:
            x = block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class VaeEncoder(nn.Module):
    """image → (mean, logvar): encoder, quant_conv, split the 2·C moments; log-variance clamped as the
    posterior does."""

    def __init__(self, sd, cfg):
        super().__init__()
        self.encoder = _Encoder(sd, cfg.groups)
        self.quant_conv = conv_from(sd, "quant_conv") if "quant_conv.weight" in sd else None

    def forward(self, image):
        moments = self.encoder(image)
        if self.quant_conv is not None:
            moments = self.quant_conv(moments)
        mean, logvar = torch.chunk(moments, 2, dim=1)
        return mean, torch.clamp(logvar, *LOGVAR_RANGE)


class VaeDecoder(nn.Module):
    """latent → image: post_quant_conv, decoder. Output is not clamped (callers clamp to [−1, 1] when saving)."""

    def __init__(self, sd, cfg):
        super().__init__()
        self.post_quant_conv = conv_from(sd, "post_quant_conv") if "post_quant_conv.weight" in sd else None
        self.decoder = _Decoder(sd, cfg.groups)

    def forward(self, latent):
        if self.post_quant_conv is not None:
            latent = self.post_quant_conv(latent)
        return self.decoder(latent)


def split_state_dict(sd):
    """(encoder part, decoder part) of an AutoencoderKL state dict, names unchanged."""
    enc = {k: v for k, v in sd.items() if k.startswith(("encoder.", "quant_conv."))}
    dec = {k: v for k, v in sd.items() if k.startswith(("decoder.", "post_quant_conv."))}
    unknown = sorted(set(sd) - set(enc) - set(dec))
    if unknown:
        raise CheckpointError("VAE: unexpected keys %s (expected diffusers AutoencoderKL names)" % unknown[:5])
    return enc, dec


def build(sd, config, groups=None, image_size=None, scaling_factor=None):
    """(VaeConfig, encoder module, decoder module) with the checkpoint's weights loaded strictly."""
    sd = modernise_attention_names(sd)
    cfg = VaeConfig(sd, config, groups, image_size, scaling_factor)
    enc_sd, dec_sd = split_state_dict(sd)
    encoder, decoder = VaeEncoder(enc_sd, cfg), VaeDecoder(dec_sd, cfg)
    for module, part, what in ((encoder, enc_sd, "VAE encoder"), (decoder, dec_sd, "VAE decoder")):
        load_strict(module, part, what)
    return cfg, encoder.eval(), decoder.eval()

