#!/usr/bin/python3
"""PyTorch checkpoints → an Evlf.OnnxHybrid model bundle (bundle.json + ONNX files + tokenizer files).

    /usr/bin/python3 tools/export/export.py dit --checkpoint DiT-XL-2-256x256.pt --vae sd-vae-ft-mse/ --out DIR
    /usr/bin/python3 tools/export/export.py sd --vae V --unet U --text-encoder T --tokenizer TOK \\
        --classes classes.txt --out DIR
    /usr/bin/python3 tools/export/export.py dit --random-config small --out /tmp/dit-bundle

Needs torch ≥ 1.13 and onnx; no diffusers, transformers or safetensors. See tools/export/README.md."""

import argparse
import os
import shutil
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bundle  # noqa: E402
import random_checkpoints  # noqa: E402
from checkpoints import CheckpointError  # noqa: E402
from components import BATCH, UsageError, export_dit_denoiser, export_text_encoder, export_unet_denoiser, \
    export_vae, log  # noqa: E402
from random_configs import CONFIGS  # noqa: E402


# ---------------------------------------------------------------------------------------------------------
# Subcommands
# ---------------------------------------------------------------------------------------------------------
class _VaeFromManifest:
    """The latent space of an existing bundle, for adding a denoiser to it."""

    def __init__(self, m):
        self.image_channels, self.image_size = m["image"]["channels"], m["image"]["size"]
        self.latent_channels, self.latent_size = m["latent"]["channels"], m["latent"]["size"]
        self.scaling_factor = m["latent"].get("scaling_factor", 1.0)


def _classes(args, default):
    if args.classes:
        return bundle.read_classes(args.classes)
    return default, None


def run_dit(args, workdir):
    heads = args.num_heads
    checkpoint, vae_path = args.checkpoint, args.vae
    default_classes = None
    out = args.out
    os.makedirs(out, exist_ok=True)
    existing = bundle.read_manifest(out)
    if args.random_config:
        checkpoint, random_vae, random_heads, default_classes = random_checkpoints.write_dit(args.random_config,
                                                                                             workdir, args.seed)
        heads = heads or random_heads
        if existing is None:  # a random VAE only where the bundle has none
            vae_path = vae_path or random_vae
    if not checkpoint:
        raise UsageError("dit needs --checkpoint PATH (or --random-config %s)" % "|".join(CONFIGS))
    heads = heads or 16
    refs = bundle.References(out, args.seed, _reference_note(args), keep=existing is not None)
    cfg = export_dit_denoiser(checkpoint, out, args, refs, heads)
    if vae_path:
        vae_cfg = export_vae(vae_path, out, args, refs, latent_size=cfg.latent_size)
    elif existing is not None:
        vae_cfg = _VaeFromManifest(existing)
        log("adding the DiT to the existing bundle in %s" % out)
    else:
        vae_cfg = None
    text = None
    if args.text_encoder:
        if not args.tokenizer:
            raise UsageError("--text-encoder needs --tokenizer DIR (vocab.json + merges.txt)")
        _, text = export_text_encoder(args.text_encoder, args.tokenizer, out, args, refs)
    elif existing is not None:
        text = existing.get("text_encoder")

    if vae_cfg is None:
        log("WARNING: no --vae: bundle.json names vae_encoder.onnx/vae_decoder.onnx, which are not there; export "
            "the VAE (e.g. sd-vae-ft-mse) with --vae, or export into a bundle folder that has one")
        vae_cfg = _VaeFromManifest({"image": {"channels": 3, "size": cfg.latent_size * 8},
                                    "latent": {"channels": cfg.in_channels, "size": cfg.latent_size,
                                               "scaling_factor": 0.18215}})
    if (vae_cfg.latent_channels, vae_cfg.latent_size) != (cfg.in_channels, cfg.latent_size):
        raise UsageError("the DiT works on %d×%d×%d latents but the VAE/bundle has %d×%d×%d"
                         % (cfg.in_channels, cfg.latent_size, cfg.latent_size, vae_cfg.latent_channels,
                            vae_cfg.latent_size, vae_cfg.latent_size))
    classes, prompts = _classes(args, (existing or {}).get("classes") or default_classes
                                or ["class_%d" % i for i in range(cfg.num_classes)])
    if len(classes) > cfg.num_classes:
        raise UsageError("%d class names for a DiT with %d classes" % (len(classes), cfg.num_classes))
    denoisers = dict((existing or {}).get("denoisers", {}))
    denoisers["dit"] = bundle.dit_denoiser(cfg)
    name = args.name or ("dit-random-%s" % args.random_config if args.random_config
                         else os.path.splitext(os.path.basename(checkpoint))[0])
    m = bundle.manifest(name, vae_cfg, denoisers, classes, text, args.prompt_template or
                        (existing or {}).get("prompt_template", "{class}"),
                        prompts if prompts is not None else (existing or {}).get("prompt_names"))
    if existing is not None and not vae_path:
        m["vae"] = existing.get("vae", m["vae"])  # the bundle's own VAE files and names
        m["name"] = args.name or existing.get("name", m["name"])
    return m, refs


def run_sd(args, workdir):
    paths = {"vae": args.vae, "unet": args.unet, "text_encoder": args.text_encoder, "tokenizer": args.tokenizer}
    default_classes = None
    if args.random_config:
        written = random_checkpoints.write_sd(args.random_config, workdir, args.seed)
        paths = {k: paths[k] or written[k] for k in paths}
        default_classes = written["classes"]
    missing = [k for k, v in paths.items() if not v]
    if missing:
        raise UsageError("sd needs %s (or --random-config %s)"
                         % (", ".join("--" + k.replace("_", "-") + " PATH" for k in missing), "|".join(CONFIGS)))
    if not args.classes and not default_classes:
        raise UsageError("sd needs --classes FILE|a,b,c: the class names of the dataset to distil, in label order")
    out = args.out
    os.makedirs(out, exist_ok=True)
    refs = bundle.References(out, args.seed, _reference_note(args))
    text_cfg, text = export_text_encoder(paths["text_encoder"], paths["tokenizer"], out, args, refs)
    vae_cfg = export_vae(paths["vae"], out, args, refs)
    sequence = text["tokenizer"]["max_length"]
    export_unet_denoiser(paths["unet"], out, args, refs, vae_cfg, text_cfg.hidden, sequence)
    classes, prompts = _classes(args, default_classes)
    name = args.name or ("sd-random-%s" % args.random_config if args.random_config else "stable-diffusion")
    m = bundle.manifest(name, vae_cfg, {"unet": bundle.unet_denoiser()}, classes, text,
                        args.prompt_template or "{class}", prompts)
    return m, refs


def _reference_note(args):
    what = "random-initialised '%s' configuration, seed %d" % (args.random_config, args.seed) if args.random_config \
        else "the exported checkpoints"
    return ("PyTorch (torch %s, CPU, float32%s) outputs of %s for fixed seeded inputs, batch %d"
            % (torch.__version__, ", weights rounded to fp16" if args.fp16 else "", what, BATCH))


# ---------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------
def parser():
    p = argparse.ArgumentParser(prog="export.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def common(s):
        s.add_argument("--out", required=True, help="bundle folder to write (created; an existing bundle.json "
                                                    "there is extended by `dit`)")
        s.add_argument("--fp16", action="store_true", help="store weights as float16 (arithmetic, inputs and "
                                                           "outputs stay float32)")
        s.add_argument("--external-data-threshold-mb", type=float, default=2048.0, metavar="MB",
                       help="store initializers in <file>.onnx.data when a graph's weights exceed this "
                            "(default 2048: protobuf's 2 GB limit; 0 forces it)")
        s.add_argument("--random-config", choices=list(CONFIGS),
                       help="export random-initialised checkpoints of this preset instead (tiny, fixture, small; "
                            "full: the official sizes; see random_configs.py)")
        s.add_argument("--keep-checkpoints", metavar="DIR", help="with --random-config: keep the random "
                                                                  "checkpoints here (default: a temporary folder)")
        s.add_argument("--seed", type=int, default=0, help="seed of the random weights and the reference inputs")
        s.add_argument("--name", help="bundle name (default from the checkpoint)")
        s.add_argument("--classes", metavar="FILE|a,b,c", help="class names in label order: a file with one per "
                                                                "line (optionally name<TAB>prompt name) or a list")
        s.add_argument("--prompt-template", help="prompt for a class, with {class} (default '{class}')")
        s.add_argument("--image-size", type=int, help="image side (default: the VAE's config.json sample_size, "
                                                      "else 512; dit: derived from the latent size)")
        s.add_argument("--vae-groups", type=int, help="VAE GroupNorm groups (default: config.json, else 32)")
        s.add_argument("--scaling-factor", type=float, help="latent scaling factor (default: config.json, "
                                                            "else 0.18215)")
        s.add_argument("--text-encoder", metavar="PATH", help="CLIPTextModel weights file or folder")
        s.add_argument("--tokenizer", metavar="DIR", help="folder with the CLIP tokenizer's vocab.json and "
                                                          "merges.txt")
        s.add_argument("--text-heads", type=int, help="text encoder heads (default: config.json, else width/64)")
        s.add_argument("--max-length", type=int, help="tokenizer row length (default 77, or the text encoder's "
                                                         "position count when it has fewer)")
        s.add_argument("--pad-id", type=int, help="pad id (default: the vocabulary's <|endoftext|>, 49407 for "
                                                  "SD 1.x)")
        s.add_argument("--pooling", default="last-pad", choices=["last-pad", "eos", "mean", "cls"],
                       help="class-vector pooling written to bundle.json (default last-pad, as EVLF)")
        s.add_argument("--vae", metavar="PATH", help="AutoencoderKL weights file or diffusers folder")

    d = sub.add_parser("dit", help="a DiT checkpoint (official state dict) → dit.onnx (+ VAE, text encoder)")
    d.add_argument("--checkpoint", metavar="PATH", help="DiT .pt/.pth/.bin/.safetensors state dict")
    d.add_argument("--num-heads", type=int, help="attention heads (not in the shapes; default 16 as DiT-XL/2)")
    d.add_argument("--latent-size", default="auto", help="latent side; 'auto' reads it from pos_embed")
    d.add_argument("--difffit", action="store_true", help="add DiffFit gamma vectors (ones) to the first half of "
                                                          "the blocks when the checkpoint has none")
    common(d)

    s = sub.add_parser("sd", help="Stable Diffusion 1.x components (diffusers naming) → a full bundle")
    s.add_argument("--unet", metavar="PATH", help="UNet2DConditionModel weights file or folder")
    s.add_argument("--unet-heads", type=int, help="UNet heads per transformer (default: config.json "
                                                  "attention_head_dim, else 8 as SD 1.x)")
    s.add_argument("--unet-groups", type=int, help="UNet GroupNorm groups (default: config.json, else 32)")
    common(s)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    args.external_threshold = int(args.external_data_threshold_mb * 2 ** 20)
    if args.command == "dit":
        args.unet_heads = args.unet_groups = None
    started = time.time()
    workdir = args.keep_checkpoints or tempfile.mkdtemp(prefix="evlf-random-")
    try:
        m, refs = (run_dit if args.command == "dit" else run_sd)(args, workdir)
        refs.save()
        bundle.write_manifest(args.out, m)
    except (UsageError, CheckpointError, FileNotFoundError, ValueError) as e:
        print("export.py %s: %s" % (args.command, e), file=sys.stderr)
        return 2
    finally:
        if not args.keep_checkpoints:
            shutil.rmtree(workdir, ignore_errors=True)
    log("wrote %s (%s) in %.0f s; check it with: evlf inspect --parity %s"
        % (os.path.join(args.out, "bundle.json"), m["name"], time.time() - started, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
