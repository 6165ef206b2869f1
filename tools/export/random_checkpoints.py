"""Random-initialised checkpoints of a preset (`random_configs.py`), written in the official layouts (a DiT state
dict as a .pt; diffusers-style vae/, unet/, text_encoder/ folders with config.json and .safetensors; a
tokenizer/ folder with a tiny hand-made CLIP vocabulary), so that the exporter runs its full-size code path on
them: the same loading, shape reading and strict load as real weights."""

import json
import os

import torch

from checkpoints import write_safetensors
from random_configs import CONFIGS
from random_state_dicts import Draw, dit_state_dict, text_config_json, text_state_dict, unet_config_json, \
    unet_state_dict, vae_config_json, vae_state_dict
from tiny_tokenizer import write_tiny_tokenizer


def _component(folder, sd, config, weights="diffusion_pytorch_model.safetensors"):
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, weights), sd)
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    return folder


def write_vae(name, folder, seed, key="vae"):
    c = CONFIGS[name][key]
    return _component(os.path.join(folder, "vae"), vae_state_dict(c, Draw(seed + 1)), vae_config_json(c))


def write_dit(name, folder, seed):
    """A DiT .pt state dict and a diffusers VAE folder for it; returns (checkpoint, vae folder, heads, classes)."""
    c = CONFIGS[name]["dit"]
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "DiT-random-%s.pt" % name)
    torch.save(dit_state_dict(c, Draw(seed)), path)
    vae = write_vae(name, folder, seed, "dit_vae")
    return path, vae, c["heads"], ["class_%d" % i for i in range(c["classes"])]


def write_sd(name, folder, seed):
    """diffusers-style vae/, unet/, text_encoder/, tokenizer/ folders; returns their paths and the classes."""
    cfg = CONFIGS[name]
    vocab_size = max(write_tiny_tokenizer(os.path.join(folder, "tokenizer")), cfg["text"].get("vocab", 0))
    text = _component(os.path.join(folder, "text_encoder"), text_state_dict(cfg["text"], vocab_size, Draw(seed + 2)),
                      text_config_json(cfg["text"], vocab_size), weights="model.safetensors")
    latent = cfg["vae"]["image_size"] // 2 ** (len(cfg["vae"]["widths"]) - 1)
    unet = _component(os.path.join(folder, "unet"),
                      unet_state_dict(cfg["unet"], cfg["text"]["hidden"], Draw(seed + 3)),
                      unet_config_json(cfg["unet"], cfg["text"]["hidden"], latent))
    vae = write_vae(name, folder, seed)
    return {"vae": vae, "unet": unet, "text_encoder": text, "tokenizer": os.path.join(folder, "tokenizer"),
            "classes": cfg["classes"]}
