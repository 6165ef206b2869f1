"""bundle.json (docs/ARCHITECTURE.md, "Model bundles"; the C# side reads it with Bundles/BundleManifest.cs) and the reference tensors
that let `evlf inspect --parity BUNDLE` compare ONNX Runtime with PyTorch.

Component entries use the names the C# loader expects: vae encoder `image` → `mean`, `logvar`; decoder
`latent` → `image`; dit-class `x`, `t`, `y` → `out`; unet-text `sample`, `timestep`, `encoder_hidden_states`
→ `noise_pred`; CLIP text encoder `input_ids` → `last_hidden_state`."""

import json
import os
import shutil

import numpy as np
from onnx import numpy_helper

FORMAT = "evlf-bundle/1"
REFERENCE_FORMAT = "evlf-export-reference/1"

LINEAR_SCHEDULE = {"kind": "linear", "beta_start": 1e-4, "beta_end": 0.02, "steps": 1000}  # DiT / ADM
SCALED_LINEAR_SCHEDULE = {"kind": "scaled-linear", "beta_start": 0.00085, "beta_end": 0.012, "steps": 1000}  # SD

# What a DiffFit/Minimax-style fine-tune trains (docs/PIPELINES.md §4: bias, norm, gamma, y_embed).
DIT_FINETUNE = "bias|norm|gamma|y_embedder"
UNET_FINETUNE = "bias|norm"


def dit_denoiser(cfg, file="dit.onnx"):
    return {
        "kind": "dit-class", "file": file, "sample_input": "x", "timestep_input": "t", "condition_input": "y",
        "output": "out", "learned_sigma": cfg.learned_sigma, "null_class": cfg.num_classes,
        "schedule": dict(LINEAR_SCHEDULE), "finetune": DIT_FINETUNE,
    }


def unet_denoiser(file="unet.onnx"):
    return {
        "kind": "unet-text", "file": file, "sample_input": "sample", "timestep_input": "timestep",
        "condition_input": "encoder_hidden_states", "output": "noise_pred", "learned_sigma": False,
        "schedule": dict(SCALED_LINEAR_SCHEDULE), "finetune": UNET_FINETUNE,
    }


def vae_section():
    return {"encoder": "vae_encoder.onnx", "decoder": "vae_decoder.onnx", "encoder_input": "image",
            "mean_output": "mean", "logvar_output": "logvar", "decoder_input": "latent", "decoder_output": "image"}


def text_encoder_section(cfg, pad_id, max_length=77, pooling="last-pad"):
    return {
        "model": "text_encoder.onnx",
        "tokenizer": {"kind": "clip-bpe", "vocab": "vocab.json", "merges": "merges.txt", "max_length": max_length,
                      "pad_id": pad_id, "lowercase": True},
        "pooling": pooling, "input_ids": "input_ids", "output": "last_hidden_state", "hidden_size": cfg.hidden,
    }


def manifest(name, vae_cfg, denoisers, classes, text_encoder=None, prompt_template="{class}", prompt_names=None):
    m = {
        "format": FORMAT,
        "name": name,
        "image": {"channels": vae_cfg.image_channels, "size": vae_cfg.image_size, "range": [-1.0, 1.0]},
        "latent": {"channels": vae_cfg.latent_channels, "size": vae_cfg.latent_size,
                   "scaling_factor": vae_cfg.scaling_factor},
        "vae": vae_section(),
        "denoisers": denoisers,
        "prompt_template": prompt_template,
        "classes": list(classes),
    }
    if text_encoder is not None:
        m["text_encoder"] = text_encoder
    if prompt_names is not None:
        m["prompt_names"] = list(prompt_names)
    return m


def read_manifest(directory):
    path = os.path.join(directory, "bundle.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_manifest(directory, m):
    path = os.path.join(directory, "bundle.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(m, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def read_classes(spec):
    """--classes: a file with one class per line (optionally `name<TAB>prompt name`), or a comma-separated list.
    Returns (classes, prompt names or None)."""
    if os.path.isfile(spec):
        with open(spec, encoding="utf-8") as f:
            rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    else:
        rows = [[c.strip()] for c in spec.split(",") if c.strip()]
    classes = [r[0].strip() for r in rows]
    prompts = [(r[1] if len(r) > 1 else r[0]).strip() for r in rows]
    return classes, (prompts if prompts != classes else None)


def copy_tokenizer(tokenizer_dir, out_dir):
    """Copies vocab.json and merges.txt (Hugging Face CLIPTokenizer files) into the bundle; returns the BOS and EOS
    ids and the vocabulary size."""
    for name in ("vocab.json", "merges.txt"):
        src = os.path.join(tokenizer_dir, name)
        if not os.path.isfile(src):
            raise FileNotFoundError("tokenizer folder '%s' has no %s (expected a Hugging Face CLIPTokenizer "
                                    "folder)" % (tokenizer_dir, name))
        shutil.copyfile(src, os.path.join(out_dir, name))
    with open(os.path.join(out_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    for special in ("<|startoftext|>", "<|endoftext|>"):
        if special not in vocab:
            raise ValueError("tokenizer vocab.json has no %s entry; is it a CLIP vocabulary?" % special)
    return int(vocab["<|startoftext|>"]), int(vocab["<|endoftext|>"]), len(vocab)


def write_tensor(path, tensor, name):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    proto = numpy_helper.from_array(np.ascontiguousarray(tensor.detach().cpu().numpy()), name)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


class References:
    """reference/<component>/{inputs,outputs}/<name>.pb (serialized onnx TensorProto) plus reference/reference.json
    listing each component's ONNX file and tensors; PyTorch outputs for fixed seeded inputs. `keep` keeps the
    entries of components this export does not rewrite (a denoiser added to an existing bundle)."""

    def __init__(self, bundle_dir, seed, note, keep=False):
        self.root = os.path.join(bundle_dir, "reference")
        self.seed, self.note = seed, note
        index = os.path.join(self.root, "reference.json")
        if keep and os.path.isfile(index):
            with open(index, encoding="utf-8") as f:
                self.index = json.load(f)
        else:
            if os.path.isdir(self.root):
                shutil.rmtree(self.root)
            self.index = {"format": REFERENCE_FORMAT, "components": {}}

    def add(self, component, onnx_file, inputs, outputs):
        folder = os.path.join(self.root, component)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        for kind, tensors in (("inputs", inputs), ("outputs", outputs)):
            for name, t in tensors.items():
                write_tensor(os.path.join(folder, kind, name + ".pb"), t, name)
        self.index["components"][component] = {
            "file": onnx_file, "folder": component, "seed": self.seed, "note": self.note,
            "inputs": {n: list(t.shape) for n, t in inputs.items()},
            "outputs": {n: list(t.shape) for n, t in outputs.items()},
        }

    def save(self):
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, "reference.json"), "w", encoding="utf-8") as f:
            json.dump(self.index, f, indent=2)
            f.write("\n")
