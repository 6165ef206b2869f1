"""The CLIP text transformer (Hugging Face CLIPTextModel naming, `text_model.` prefix optional):
input_ids (N, L) int64 → last_hidden_state (N, L, D) after final_layer_norm. Pre-norm layers with a causal
mask: x += out_proj(attn(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x)))). No padding mask: Stable
Diffusion feeds the whole 77-token row.

From the shapes: vocabulary, width, layers, MLP width, position-table length. Not in the shapes: the head count
(config.json num_attention_heads, else width/64: 12 for ViT-L/14), the activation (config.json hidden_act, else
quick_gelu as in SD 1.x) and the LayerNorm eps (config.json layer_norm_eps, else 1e-5)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkpoints import CheckpointError, count_indexed, load_strict, require, strip_prefix


class ClipTextConfig:
    def __init__(self, sd, config, heads=None):
        tok = require(sd, "embeddings.token_embedding.weight", "text encoder")
        self.vocab, self.hidden = int(tok.shape[0]), int(tok.shape[1])
        self.max_positions = int(require(sd, "embeddings.position_embedding.weight", "text encoder").shape[0])
        self.layers = count_indexed(sd, "encoder.layers.")
        self.mlp = int(require(sd, "encoder.layers.0.mlp.fc1.weight", "text encoder").shape[0])
        self.heads = heads or config.get("num_attention_heads") or max(1, self.hidden // 64)
        if self.hidden % self.heads:
            raise CheckpointError("text encoder: width %d is not divisible by %d heads" % (self.hidden, self.heads))
        self.activation = config.get("hidden_act", "quick_gelu")
        if self.activation not in ("quick_gelu", "gelu"):
            raise CheckpointError("text encoder: hidden_act '%s' is not supported (quick_gelu or gelu)"
                                  % self.activation)
        self.eps = config.get("layer_norm_eps", 1e-5)

    def describe(self):
        return ("text encoder: CLIP, vocabulary %d, width %d, %d layers, %d heads, MLP %d (%s), %d positions"
                % (self.vocab, self.hidden, self.layers, self.heads, self.mlp, self.activation, self.max_positions))


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.hidden
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))
        self.heads, self.head_dim = cfg.heads, d // cfg.heads

    def forward(self, x, mask):
        n, length, d = x.shape

        def split(t):
            return t.reshape(n, length, self.heads, self.head_dim).transpose(1, 2)
        q = split(self.q_proj(x) * self.head_dim ** -0.5)
        k, v = split(self.k_proj(x)), split(self.v_proj(x))
        probs = (torch.matmul(q, k.transpose(-1, -2)) + mask).softmax(dim=-1)
        return self.out_proj(torch.matmul(probs, v).transpose(1, 2).reshape(n, length, d))


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg.hidden, cfg.mlp)
        self.fc2 = nn.Linear(cfg.mlp, cfg.hidden)
        self.quick = cfg.activation == "quick_gelu"

    def forward(self, x):
        h = self.fc1(x)
        h = h * torch.sigmoid(1.702 * h) if self.quick else F.gelu(h)
        return self.fc2(h)


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = SelfAttention(cfg)
        self.layer_norm1 = nn.LayerNorm(cfg.hidden, eps=cfg.eps)
        self.mlp = Mlp(cfg)
        self.layer_norm2 = nn.LayerNorm(cfg.hidden, eps=cfg.eps)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab, cfg.hidden)
        self.position_embedding = nn.Embedding(cfg.max_positions, cfg.hidden)

    def forward(self, input_ids):
        length = input_ids.shape[1]
        positions = torch.arange(length, dtype=torch.int64)[None]
        return self.token_embedding(input_ids) + self.position_embedding(positions)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layers = nn.ModuleList([Layer(cfg) for _ in range(cfg.layers)])


class ClipTextModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)
        self.final_layer_norm = nn.LayerNorm(cfg.hidden, eps=cfg.eps)

    @staticmethod
    def causal_mask(length):
        """(1, 1, L, L) additive mask, −inf above the diagonal: no look-ahead. Exports as Trilu (opset ≥ 14)."""
        return torch.full((length, length), float("-inf")).triu(1)[None, None]

    def forward(self, input_ids):
        x = self.embeddings(input_ids)
        mask = self.causal_mask(input_ids.shape[1])
        for layer in self.encoder.layers:
            x = layer(x, mask)
        return self.final_layer_norm(x)


def build(sd, config, heads=None, make=ClipTextModel):
    """(ClipTextConfig, module) from a CLIPTextModel (or full CLIPModel) state dict. `make(cfg)` builds the module:
    ClipTextModel, or a subclass with the same parameters (the importer fixtures add a pooled output)."""
    sd = strip_prefix(sd, ("text_model.",))
    sd = {k: v for k, v in sd.items() if not k.endswith("position_ids")}  # a buffer, not a weight
    cfg = ClipTextConfig(sd, config.get("text_config", config), heads)
    model = make(cfg)
    load_strict(model, sd, "text encoder")
    return cfg, model.eval()
