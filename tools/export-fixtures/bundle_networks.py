"""The four fixtures whose networks tools/export defines (dit.py, unet.py, vae.py, clip_text.py): a state dict in the
official layout is drawn at random (random_state_dicts.py, the same draw as `export.py --random-config`), the
module is built from its shapes and loaded strictly, exactly as for real weights. Each builder returns the module,
its inputs (batch 2), output names, dynamic axes and notes; `_int_ranges` in the notes are the [0, n) ranges of
the integer inputs."""

import collections

import torch

import clip_text
import dit
import unet
import vae
from random_state_dicts import Draw, dit_state_dict, text_config_json, text_state_dict, unet_config_json, \
    unet_state_dict, vae_config_json, vae_state_dict

BATCH = 2


def build_dit(variant, gen, opset, seed):
    c = variant["networks"]["dit"]
    _, model = dit.build(dit_state_dict(c, Draw(seed)), num_heads=c["heads"])
    size = c["latent_size"]
    x = torch.randn(BATCH, c["in_channels"], size, size, generator=gen)
    t = torch.randint(0, 1000, (BATCH,), generator=gen, dtype=torch.int64)
    y = torch.randint(0, c["classes"], (BATCH,), generator=gen, dtype=torch.int64)
    y[-1] = c["classes"]  # the last row uses the null class
    inputs = collections.OrderedDict(x=x, t=t, y=y)
    dyn = {"x": {0: "batch"}, "t": {0: "batch"}, "y": {0: "batch"}, "out": {0: "batch"}}
    notes = {"_int_ranges": {"t": 1000, "y": c["classes"] + 1},
             "y": "last row is the null class %d" % c["classes"],
             "out": "channels 0..%d eps, the rest learned-variance values" % (c["in_channels"] - 1)}
    return model, inputs, ["out"], dyn, notes


def build_unet(variant, gen, opset, seed):
    c, ctx = variant["networks"]["unet"], variant["networks"]["text"]["hidden"]
    height, width = variant["inputs"]["latent"]
    _, model = unet.build(unet_state_dict(c, ctx, Draw(seed)), unet_config_json(c, ctx, height))
    sample = torch.randn(BATCH, 4, height, width, generator=gen)
    timestep = torch.randint(0, 1000, (BATCH,), generator=gen, dtype=torch.int64)
    context = torch.randn(BATCH, variant["inputs"]["context"], ctx, generator=gen)
    inputs = collections.OrderedDict(sample=sample, timestep=timestep, encoder_hidden_states=context)
    dyn = {"sample": {0: "batch"}, "timestep": {0: "batch"},
           "encoder_hidden_states": {0: "batch", 1: "seq"}, "out_sample": {0: "batch"}}
    return model, inputs, ["out_sample"], dyn, {"_int_ranges": {"timestep": 1000}}


def build_vae_decoder(variant, gen, opset, seed):
    c = variant["networks"]["vae"]
    _, _, decoder = vae.build(vae_state_dict(c, Draw(seed)), vae_config_json(c))
    height, width = variant["inputs"]["latent"]
    z = torch.randn(BATCH, c["latent_channels"], height, width, generator=gen)
    return decoder, collections.OrderedDict(z=z), ["sample"], {"z": {0: "batch"}, "sample": {0: "batch"}}, {}


class PooledClipText(clip_text.ClipTextModel):
    """tools/export's CLIP text model plus the pooler_output of Hugging Face's CLIPTextModel: the final state at the
    largest id of each row (EOS, the last id of CLIP's vocabulary). The bundle exports only last_hidden_state and
    the C# text encoder pools; this output is the reference for its EOS pooling. At opset 13, which has no Trilu,
    the causal mask is built by comparing index ranges instead of `triu`."""

    def __init__(self, cfg, opset):
        super().__init__(cfg)
        self.opset = opset

    def causal_mask(self, length):
        if self.opset >= 14:
            return super().causal_mask(length)
        idx = torch.arange(length)
        return torch.zeros(length, length).masked_fill(idx[None, :] > idx[:, None], float("-inf"))[None, None]

    def forward(self, input_ids):
        x = super().forward(input_ids)
        return x, x[torch.arange(x.shape[0]), input_ids.argmax(dim=-1)]


def clip_ids(vocab, length, gen):
    """Row 0 ends with EOS (vocab − 1). Row 1 is a shorter prompt: EOS earlier, then pad id 0 (OpenAI CLIP's
    padding), so that argmax pooling must really gather; a "take the last position" shortcut fails."""
    eos = vocab - 1
    ids = torch.randint(1, eos, (BATCH, length), generator=gen, dtype=torch.int64)
    ids[0, -1] = eos
    cut = max(1, length - 3)
    ids[1, cut] = eos
    ids[1, cut + 1:] = 0
    return ids


def build_clip_text(variant, gen, opset, seed):
    c = variant["networks"]["text"]
    _, model = clip_text.build(text_state_dict(c, c["vocab"], Draw(seed)), text_config_json(c, c["vocab"]),
                               make=lambda cfg: PooledClipText(cfg, opset))
    ids = clip_ids(c["vocab"], variant["inputs"]["seq"], gen)
    inputs = collections.OrderedDict(input_ids=ids)
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"},
           "pooler_output": {0: "batch"}}
    notes = {"_int_ranges": {"input_ids": c["vocab"]},
             "input_ids": "EOS id %d at positions %s (row 0 last; row 1 earlier, followed by pad id 0); "
                          "max sequence length %d" % (c["vocab"] - 1, ids.argmax(dim=-1).tolist(), c["positions"]),
             "causal_mask": "triu (Trilu)" if opset >= 14 else "arange comparison + Where"}
    return model, inputs, ["last_hidden_state", "pooler_output"], dyn, notes
