"""Random-initialised state dicts in the official layouts (facebookresearch/DiT; diffusers AutoencoderKL and
UNet2DConditionModel; Hugging Face CLIPTextModel) for a preset of `random_configs.py`, and the config.json that
goes with each.

The key names and shapes are generated here from each architecture's construction rules, independently of
the module definitions the exporter builds from shapes; a naming mistake on either side fails the strict load.
Weights are drawn so that every path matters and activations stay O(1): nothing zero (adaLN-Zero and the
output layers are not zeroed as in training-from-scratch), norms near one."""

import math

import torch

from dit import sincos_pos_embed


class Draw:
    """Seeded random tensors by role."""

    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def weight(self, *shape):
        fan_in = int(torch.tensor(shape[1:]).prod()) if len(shape) > 1 else shape[0]
        return torch.randn(*shape, generator=self.g) / math.sqrt(fan_in)

    def bias(self, n):
        return 0.05 * torch.randn(n, generator=self.g)

    def norm(self, n):
        return 1.0 + 0.1 * torch.randn(n, generator=self.g)

    def embedding(self, *shape):
        return 0.5 * torch.randn(*shape, generator=self.g)


def _linear(sd, draw, prefix, n_in, n_out, bias=True):
    sd[prefix + ".weight"] = draw.weight(n_out, n_in)
    if bias:
        sd[prefix + ".bias"] = draw.bias(n_out)


def _conv(sd, draw, prefix, n_in, n_out, k):
    sd[prefix + ".weight"] = draw.weight(n_out, n_in, k, k)
    sd[prefix + ".bias"] = draw.bias(n_out)


def _norm(sd, draw, prefix, n):
    sd[prefix + ".weight"] = draw.norm(n)
    sd[prefix + ".bias"] = 2 * draw.bias(n)


# ---------------------------------------------------------------------------------------------------------
# DiT: the official facebookresearch/DiT state dict (+ Minimax/DiffFit gammas in the first blocks)
# ---------------------------------------------------------------------------------------------------------
def dit_state_dict(c, draw):
    sd, h, p = {}, c["hidden"], c["patch"]
    out_ch = 2 * c["in_channels"] if c["learned_sigma"] else c["in_channels"]
    _conv(sd, draw, "x_embedder.proj", c["in_channels"], h, p)
    _linear(sd, draw, "t_embedder.mlp.0", c["freq_dim"], h)
    _linear(sd, draw, "t_embedder.mlp.2", h, h)
    sd["y_embedder.embedding_table.weight"] = draw.embedding(c["classes"] + 1, h)
    sd["pos_embed"] = sincos_pos_embed(h, c["latent_size"] // p)
    mlp = int(h * c["mlp_ratio"])
    for i in range(c["depth"]):
        b = "blocks.%d." % i
        _linear(sd, draw, b + "attn.qkv", h, 3 * h)
        _linear(sd, draw, b + "attn.proj", h, h)
        _linear(sd, draw, b + "mlp.fc1", h, mlp)
        _linear(sd, draw, b + "mlp.fc2", mlp, h)
        _linear(sd, draw, b + "adaLN_modulation.1", h, 6 * h)
        if i < c["gamma_blocks"]:
            sd[b + "gamma1"], sd[b + "gamma2"] = draw.norm(h), draw.norm(h)
            sd[b + "attn.gamma1"], sd[b + "attn.gamma2"] = draw.norm(3 * h), draw.norm(h)
    _linear(sd, draw, "final_layer.linear", h, p * p * out_ch)
    _linear(sd, draw, "final_layer.adaLN_modulation.1", h, 2 * h)
    return sd


# ---------------------------------------------------------------------------------------------------------
# diffusers AutoencoderKL
# ---------------------------------------------------------------------------------------------------------
def _resnet(sd, draw, prefix, n_in, n_out, temb=None):
    _norm(sd, draw, prefix + ".norm1", n_in)
    _conv(sd, draw, prefix + ".conv1", n_in, n_out, 3)
    if temb:
        _linear(sd, draw, prefix + ".time_emb_proj", temb, n_out)
    _norm(sd, draw, prefix + ".norm2", n_out)
    _conv(sd, draw, prefix + ".conv2", n_out, n_out, 3)
    if n_in != n_out:
        _conv(sd, draw, prefix + ".conv_shortcut", n_in, n_out, 1)


def _vae_attention(sd, draw, prefix, ch):
    _norm(sd, draw, prefix + ".group_norm", ch)
    for name in ("to_q", "to_k", "to_v", "to_out.0"):
        _linear(sd, draw, "%s.%s" % (prefix, name), ch, ch)


def vae_state_dict(c, draw):
    sd, w, z = {}, c["widths"], c["latent_channels"]
    _conv(sd, draw, "encoder.conv_in", c["image_channels"], w[0], 3)
    prev = w[0]
    for i, ch in enumerate(w):
        for j in range(c["layers"]):
            _resnet(sd, draw, "encoder.down_blocks.%d.resnets.%d" % (i, j), prev if j == 0 else ch, ch)
        if i < len(w) - 1:
            _conv(sd, draw, "encoder.down_blocks.%d.downsamplers.0.conv" % i, ch, ch, 3)
        prev = ch
    for part in ("encoder", "decoder"):
        _resnet(sd, draw, part + ".mid_block.resnets.0", w[-1], w[-1])
        _vae_attention(sd, draw, part + ".mid_block.attentions.0", w[-1])
        _resnet(sd, draw, part + ".mid_block.resnets.1", w[-1], w[-1])
    _norm(sd, draw, "encoder.conv_norm_out", w[-1])
    _conv(sd, draw, "encoder.conv_out", w[-1], 2 * z, 3)
    _conv(sd, draw, "quant_conv", 2 * z, 2 * z, 1)
    _conv(sd, draw, "post_quant_conv", z, z, 1)
    _conv(sd, draw, "decoder.conv_in", z, w[-1], 3)
    rev = list(reversed(w))
    prev = rev[0]
    for i, ch in enumerate(rev):
        for j in range(c["layers"] + 1):
            _resnet(sd, draw, "decoder.up_blocks.%d.resnets.%d" % (i, j), prev if j == 0 else ch, ch)
        if i < len(rev) - 1:
            _conv(sd, draw, "decoder.up_blocks.%d.upsamplers.0.conv" % i, ch, ch, 3)
        prev = ch
    _norm(sd, draw, "decoder.conv_norm_out", w[0])
    _conv(sd, draw, "decoder.conv_out", w[0], c["image_channels"], 3)
    return sd


def vae_config_json(c):
    n = len(c["widths"])
    return {"_class_name": "AutoencoderKL", "in_channels": c["image_channels"], "out_channels": c["image_channels"],
            "latent_channels": c["latent_channels"], "block_out_channels": c["widths"],
            "layers_per_block": c["layers"], "norm_num_groups": c["groups"], "sample_size": c["image_size"],
            "scaling_factor": 0.18215, "down_block_types": ["DownEncoderBlock2D"] * n,
            "up_block_types": ["UpDecoderBlock2D"] * n}


# ---------------------------------------------------------------------------------------------------------
# diffusers UNet2DConditionModel (SD 1.x layout: CrossAttnDown ×3 + Down, mid with cross-attention,
# Up + CrossAttnUp ×3)
# ---------------------------------------------------------------------------------------------------------
def _transformer(sd, draw, prefix, ch, ctx, depth, linear):
    _norm(sd, draw, prefix + ".norm", ch)
    if linear:
        _linear(sd, draw, prefix + ".proj_in", ch, ch)
    else:
        _conv(sd, draw, prefix + ".proj_in", ch, ch, 1)
    for k in range(depth):
        b = "%s.transformer_blocks.%d" % (prefix, k)
        for n in ("norm1", "norm2", "norm3"):
            sd[b + "." + n + ".weight"], sd[b + "." + n + ".bias"] = draw.norm(ch), draw.bias(ch)
        for attn, kv in (("attn1", ch), ("attn2", ctx)):
            _linear(sd, draw, b + "." + attn + ".to_q", ch, ch, bias=False)
            _linear(sd, draw, b + "." + attn + ".to_k", kv, ch, bias=False)
            _linear(sd, draw, b + "." + attn + ".to_v", kv, ch, bias=False)
            _linear(sd, draw, b + "." + attn + ".to_out.0", ch, ch)
        _linear(sd, draw, b + ".ff.net.0.proj", ch, 8 * ch)  # GEGLU: value and gate, inner 4·ch
        _linear(sd, draw, b + ".ff.net.2", 4 * ch, ch)
    if linear:
        _linear(sd, draw, prefix + ".proj_out", ch, ch)
    else:
        _conv(sd, draw, prefix + ".proj_out", ch, ch, 1)


def unet_state_dict(c, ctx, draw, in_ch=4):
    sd, w, layers = {}, c["widths"], c["layers"]
    temb = 4 * c["time_proj"]
    tr = dict(depth=c["transformer_depth"], linear=c["linear_projection"])
    _linear(sd, draw, "time_embedding.linear_1", c["time_proj"], temb)
    _linear(sd, draw, "time_embedding.linear_2", temb, temb)
    _conv(sd, draw, "conv_in", in_ch, w[0], 3)
    skips, prev = [w[0]], w[0]
    for i, ch in enumerate(w):
        for j in range(layers):
            _resnet(sd, draw, "down_blocks.%d.resnets.%d" % (i, j), prev if j == 0 else ch, ch, temb)
            if i in c["attention_levels"]:
                _transformer(sd, draw, "down_blocks.%d.attentions.%d" % (i, j), ch, ctx, **tr)
            skips.append(ch)
        if i < len(w) - 1:
            _conv(sd, draw, "down_blocks.%d.downsamplers.0.conv" % i, ch, ch, 3)
            skips.append(ch)
        prev = ch
    _resnet(sd, draw, "mid_block.resnets.0", w[-1], w[-1], temb)
    _transformer(sd, draw, "mid_block.attentions.0", w[-1], ctx, **tr)
    _resnet(sd, draw, "mid_block.resnets.1", w[-1], w[-1], temb)
    rev, levels = list(reversed(w)), len(w)
    prev = rev[0]
    for i, ch in enumerate(rev):
        for j in range(layers + 1):
            _resnet(sd, draw, "up_blocks.%d.resnets.%d" % (i, j), prev + skips.pop(), ch, temb)
            if (levels - 1 - i) in c["attention_levels"]:
                _transformer(sd, draw, "up_blocks.%d.attentions.%d" % (i, j), ch, ctx, **tr)
            prev = ch
        if i < levels - 1:
            _conv(sd, draw, "up_blocks.%d.upsamplers.0.conv" % i, ch, ch, 3)
    _norm(sd, draw, "conv_norm_out", w[0])
    _conv(sd, draw, "conv_out", w[0], in_ch, 3)
    return sd


def unet_config_json(c, ctx, sample_size):
    n = len(c["widths"])
    down = ["CrossAttnDownBlock2D" if i in c["attention_levels"] else "DownBlock2D" for i in range(n)]
    up = ["CrossAttnUpBlock2D" if (n - 1 - i) in c["attention_levels"] else "UpBlock2D" for i in range(n)]
    return {"_class_name": "UNet2DConditionModel", "in_channels": 4, "out_channels": 4,
            "block_out_channels": c["widths"], "layers_per_block": c["layers"], "norm_num_groups": c["groups"],
            "attention_head_dim": c["heads"], "cross_attention_dim": ctx, "sample_size": sample_size,
            "flip_sin_to_cos": True, "freq_shift": 0, "use_linear_projection": c["linear_projection"],
            "down_block_types": down, "up_block_types": up}


# ---------------------------------------------------------------------------------------------------------
# Hugging Face CLIPTextModel
# ---------------------------------------------------------------------------------------------------------
def text_state_dict(c, vocab_size, draw):
    sd, d = {}, c["hidden"]
    sd["text_model.embeddings.token_embedding.weight"] = draw.embedding(vocab_size, d)
    sd["text_model.embeddings.position_embedding.weight"] = draw.embedding(c["positions"], d)
    for i in range(c["layers"]):
        b = "text_model.encoder.layers.%d." % i
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            _linear(sd, draw, b + "self_attn." + n, d, d)
        sd[b + "layer_norm1.weight"], sd[b + "layer_norm1.bias"] = draw.norm(d), draw.bias(d)
        _linear(sd, draw, b + "mlp.fc1", d, c["mlp"])
        _linear(sd, draw, b + "mlp.fc2", c["mlp"], d)
        sd[b + "layer_norm2.weight"], sd[b + "layer_norm2.bias"] = draw.norm(d), draw.bias(d)
    sd["text_model.final_layer_norm.weight"] = draw.norm(d)
    sd["text_model.final_layer_norm.bias"] = draw.bias(d)
    return sd


def text_config_json(c, vocab_size):
    return {"architectures": ["CLIPTextModel"], "hidden_size": c["hidden"], "num_hidden_layers": c["layers"],
            "num_attention_heads": c["heads"], "intermediate_size": c["mlp"], "vocab_size": vocab_size,
            "max_position_embeddings": c["positions"], "hidden_act": c["activation"], "layer_norm_eps": 1e-5}

