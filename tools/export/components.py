"""One bundle component each: load a checkpoint, build its module from the shapes, export it with fixed seeded inputs
(batch 2) and record the PyTorch outputs as references. `export.py` strings these together into a bundle."""

import os

import torch

import bundle
import clip_text
import dit
import onnx_export
import unet
import vae
from checkpoints import load_config, load_state_dict

BATCH = 2
MAX_LENGTH = 77  # CLIP's row length; a text encoder with fewer positions gets its own count


class UsageError(Exception):
    pass


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Fixed inputs for the PyTorch reference outputs and the trace check (seeded; batch 2)
# ---------------------------------------------------------------------------------------------------------
def _gen(seed, salt):
    return torch.Generator().manual_seed(seed * 1000 + salt)


def _halve_or_double(size, multiple):
    return size // 2 if size // 2 % multiple == 0 and size // 2 > 0 else size * 2


def export_vae(folder, out, args, refs, latent_size=None):
    """vae_encoder.onnx and vae_decoder.onnx from an AutoencoderKL checkpoint; returns its VaeConfig.
    `latent_size`: the side a denoiser needs (DiT), which fixes the image side."""
    sd = load_state_dict(folder)
    image_size = args.image_size
    if latent_size is not None:
        factor = 2 ** vae.downsampling_levels(sd)
        if image_size and image_size != latent_size * factor:
            raise UsageError("--image-size %d does not give the DiT's %d×%d latents through this VAE (expected %d)"
                             % (image_size, latent_size, latent_size, latent_size * factor))
        image_size = latent_size * factor
    cfg, encoder, decoder = vae.build(sd, load_config(folder), args.vae_groups, image_size, args.scaling_factor)
    del sd  # the modules hold their own copies; full-size checkpoints are gigabytes
    log(cfg.describe())
    g = _gen(args.seed, 1)
    image = torch.rand(BATCH, cfg.image_channels, cfg.image_size, cfg.image_size, generator=g) * 2 - 1
    latent = torch.randn(BATCH, cfg.latent_channels, cfg.latent_size, cfg.latent_size, generator=g)
    factor = 2 ** cfg.downsamples
    other = _halve_or_double(cfg.latent_size, 1)
    image_axes = {0: "batch", 2: "height", 3: "width"}
    latent_axes = {0: "batch", 2: "latent_height", 3: "latent_width"}

    inputs = {"image": image}
    alternatives = [{"image": image[:1, :, :other * factor, :other * factor]
                                                         if other < cfg.latent_size else
                                                         torch.rand(1, cfg.image_channels, other * factor,
                                                                    other * factor, generator=g)}]
    report, outputs = onnx_export.export(encoder, inputs, ["mean", "logvar"],
                                         {"image": image_axes, "mean": latent_axes, "logvar": latent_axes},
                                         os.path.join(out, "vae_encoder.onnx"), args.fp16, args.external_threshold,
                                         alternatives, log)
    refs.add("vae_encoder", "vae_encoder.onnx", inputs, outputs)

    inputs = {"latent": latent}
    alternatives = [{"latent": torch.randn(1, cfg.latent_channels, other, other, generator=g)}]
    report, outputs = onnx_export.export(decoder, inputs, ["image"], {"latent": latent_axes, "image": image_axes},
                                         os.path.join(out, "vae_decoder.onnx"), args.fp16, args.external_threshold,
                                         alternatives, log)
    refs.add("vae_decoder", "vae_decoder.onnx", inputs, outputs)
    return cfg


def _token_rows(seed, bos, eos, length, batch=BATCH):
    """BOS, random tokens, EOS, then EOS padding (SD 1.x); rows of different lengths."""
    g = _gen(seed, 2)
    ids = torch.full((batch, length), eos, dtype=torch.int64)
    ids[:, 0] = bos
    for row in range(batch):
        n = int(torch.randint(1, max(2, length - 2), (1,), generator=g))
        ids[row, 1:1 + n] = torch.randint(0, min(eos, bos), (n,), generator=g)
    return ids


def export_text_encoder(path, tokenizer, out, args, refs):
    """text_encoder.onnx plus the tokenizer files; returns its ClipTextConfig and the text_encoder section of
    bundle.json (which holds the row length: --max-length, else 77 or the encoder's position count if smaller)."""
    sd = load_state_dict(path)
    cfg, model = clip_text.build(sd, load_config(path), args.text_heads)
    del sd
    log(cfg.describe())
    bos, eos, vocab_size = bundle.copy_tokenizer(tokenizer, out)
    if vocab_size > cfg.vocab:
        raise UsageError("the tokenizer has %d entries but the text encoder's table only %d rows"
                         % (vocab_size, cfg.vocab))
    max_length = args.max_length or min(MAX_LENGTH, cfg.max_positions)
    if max_length > cfg.max_positions:
        raise UsageError("--max-length %d exceeds the text encoder's %d positions" % (max_length, cfg.max_positions))
    ids = _token_rows(args.seed, bos, eos, max_length)
    inputs = {"input_ids": ids}
    alternatives = [{"input_ids": ids[:1, :max(2, max_length // 3)]}]
    axes = {0: "batch", 1: "sequence"}
    _, outputs = onnx_export.export(model, inputs, ["last_hidden_state"],
                                    {"input_ids": axes, "last_hidden_state": axes},
                                    os.path.join(out, "text_encoder.onnx"), args.fp16, args.external_threshold,
                                    alternatives, log)
    refs.add("text_encoder", "text_encoder.onnx", inputs, outputs)
    pad = eos if args.pad_id is None else args.pad_id
    return cfg, bundle.text_encoder_section(cfg, pad, max_length, args.pooling)


def export_dit_denoiser(checkpoint, out, args, refs, heads):
    sd = load_state_dict(checkpoint)
    latent = None if args.latent_size == "auto" else int(args.latent_size)
    cfg, model = dit.build(sd, heads, latent, args.difffit)
    del sd
    log(cfg.describe())
    if cfg.added_gamma_blocks:
        log("  --difffit: added gamma vectors (ones) to blocks %s" % cfg.added_gamma_blocks)
    g = _gen(args.seed, 3)
    x = torch.randn(BATCH, cfg.in_channels, cfg.latent_size, cfg.latent_size, generator=g)
    t = torch.randint(0, 1000, (BATCH,), generator=g, dtype=torch.int64)
    y = torch.randint(0, cfg.num_classes, (BATCH,), generator=g, dtype=torch.int64)
    y[-1] = cfg.num_classes  # the null class
    inputs = {"x": x, "t": t, "y": y}
    axes = {"x": {0: "batch"}, "t": {0: "batch"}, "y": {0: "batch"}, "out": {0: "batch"}}
    _, outputs = onnx_export.export(model, inputs, ["out"], axes, os.path.join(out, "dit.onnx"), args.fp16,
                                    args.external_threshold, None, log)
    refs.add("dit", "dit.onnx", inputs, outputs)
    return cfg


def export_unet_denoiser(path, out, args, refs, latent_cfg, context_dim, sequence):
    sd = load_state_dict(path)
    cfg, model = unet.build(sd, load_config(path), args.unet_heads, args.unet_groups)
    del sd
    log(cfg.describe())
    if cfg.in_channels != latent_cfg.latent_channels:
        raise UsageError("the UNet takes %d latent channels but the VAE makes %d" % (cfg.in_channels,
                                                                                   latent_cfg.latent_channels))
    if context_dim is not None and cfg.cross_attention_dim != context_dim:
        raise UsageError("the UNet cross-attends to width %s but the text encoder gives %d"
                         % (cfg.cross_attention_dim, context_dim))
    g = _gen(args.seed, 4)
    size = latent_cfg.latent_size
    sample = torch.randn(BATCH, cfg.in_channels, size, size, generator=g)
    timestep = torch.randint(0, 1000, (BATCH,), generator=g, dtype=torch.int64)
    context = torch.randn(BATCH, sequence, cfg.cross_attention_dim, generator=g)
    inputs = {"sample": sample, "timestep": timestep, "encoder_hidden_states": context}
    multiple = 2 ** (cfg.levels - 1)
    other = _halve_or_double(size, multiple)
    alternatives = [{"sample": torch.randn(1, cfg.in_channels, other, other, generator=g), "timestep": timestep[:1],
                     "encoder_hidden_states": context[:1, :max(1, sequence // 3)]}]
    spatial = {0: "batch", 2: "latent_height", 3: "latent_width"}
    axes = {"sample": spatial, "timestep": {0: "batch"}, "encoder_hidden_states": {0: "batch", 1: "sequence"},
            "noise_pred": spatial}
    _, outputs = onnx_export.export(model, inputs, ["noise_pred"], axes, os.path.join(out, "unet.onnx"), args.fp16,
                                    args.external_threshold, alternatives, log)
    refs.add("unet", "unet.onnx", inputs, outputs)
    return cfg

