"""The fixtures without a tools/export counterpart: a BERT/MiniLM-style text encoder (post-LN, erf GELU, padding
mask), a conv net with BatchNorm and Dropout, and a tiny MLP whose weights live in external data. Written for this
project; only architectural facts (layer order, constants) follow BERT. Each builder returns the module, its
inputs (batch 2), output names, dynamic axes and notes, like bundle_networks.py."""

import collections
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 2


def reinit_(model, bias_std=0.05, norm_std=0.1, embed_std=0.5):
    """Re-initialise every parameter randomly (nothing zero, nothing identity) so that every path of the graph
    influences the outputs while activations stay O(1); BatchNorm gets non-trivial running statistics."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(m.weight[0].numel()))
            if m.bias is not None:
                nn.init.normal_(m.bias, 0.0, bias_std)
        elif isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, norm_std)
            nn.init.normal_(m.bias, 0.0, norm_std)
            if isinstance(m, nn.BatchNorm2d):
                with torch.no_grad():
                    m.running_mean.normal_(0.0, 0.3)
                    m.running_var.uniform_(0.5, 2.0)
                    m.num_batches_tracked.fill_(17)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, embed_std)


class SelfAttention(nn.Module):
    """q/k/v attention over (N, L, D) with an additive mask broadcast to (N, H, L, L)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.to_q = nn.Linear(dim, dim)
        self.to_k = nn.Linear(dim, dim)
        self.to_v = nn.Linear(dim, dim)
        self.to_out = nn.Linear(dim, dim)

    def _split_heads(self, t):
        n, length, _ = t.shape
        return t.reshape(n, length, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, additive_mask):
        q = self._split_heads(self.to_q(x) * self.head_dim ** -0.5)
        k = self._split_heads(self.to_k(x))
        v = self._split_heads(self.to_v(x))
        probs = (torch.matmul(q, k.transpose(-1, -2)) + additive_mask).softmax(dim=-1)
        out = torch.matmul(probs, v)
        n, _, length, _ = out.shape
        return self.to_out(out.transpose(1, 2).reshape(n, length, self.heads * self.head_dim))


# ----------------------------------------------------------------------------------------
# BERT / MiniLM encoder (post-LN, erf GELU, padding mask)
# ----------------------------------------------------------------------------------------
class BertLayer(nn.Module):
    def __init__(self, dim, heads, intermediate):
        super().__init__()
        self.attention = SelfAttention(dim, heads)
        self.attention_norm = nn.LayerNorm(dim, eps=1e-12)
        self.intermediate = nn.Linear(dim, intermediate)
        self.output = nn.Linear(intermediate, dim)
        self.output_norm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, ext_mask):
        x = self.attention_norm(x + self.dropout(self.attention(x, ext_mask)))
        x = self.output_norm(x + self.dropout(self.output(F.gelu(self.intermediate(x)))))
        return x


class MiniBert(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, intermediate, max_pos, type_vocab, seq):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.token_type_embeddings = nn.Embedding(type_vocab, hidden)
        self.register_buffer("position_ids", torch.arange(max_pos, dtype=torch.int64)[None], persistent=False)
        self.embeddings_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.embeddings_dropout = nn.Dropout(0.1)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, intermediate) for _ in range(layers)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        length = input_ids.shape[1]
        pos = self.position_ids[:, :length]
        x = self.word_embeddings(input_ids) + self.position_embeddings(pos) + \
            self.token_type_embeddings(token_type_ids)
        x = self.embeddings_dropout(self.embeddings_norm(x))
        ext = attention_mask[:, None, None, :].to(x.dtype)
        ext = (1.0 - ext) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, ext)
        return x


def build_bert_text(variant, gen, opset, seed):
    cfg = variant["bert_text"]
    model = MiniBert(**cfg)
    reinit_(model)
    n, length = BATCH, cfg["seq"]
    ids = torch.randint(3, cfg["vocab"], (n, length), generator=gen, dtype=torch.int64)
    ids[:, 0] = 1  # "[CLS]"
    mask = torch.ones(n, length, dtype=torch.int64)
    valid = max(2, length - 3)
    mask[1, valid:] = 0  # row 1 has trailing padding
    ids[1, valid - 1] = 2  # "[SEP]"
    ids[1, valid:] = 0  # "[PAD]"
    ids[0, -1] = 2
    types = torch.zeros(n, length, dtype=torch.int64)
    inputs = collections.OrderedDict(input_ids=ids, attention_mask=mask, token_type_ids=types)
    outputs = ["last_hidden_state"]
    dyn = {k: {0: "batch", 1: "seq"} for k in list(inputs) + outputs}
    notes = {"_int_ranges": {"input_ids": cfg["vocab"], "attention_mask": 2, "token_type_ids": cfg["type_vocab"]},
             "attention_mask": "row 1 has %d trailing zeros" % (length - valid)}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# BatchNorm + Dropout conv net
# ----------------------------------------------------------------------------------------
class BnDropoutNet(nn.Module):
    def __init__(self, in_ch, c1, c2, classes, height, width, p):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, c1, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(c2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p)
        self.fc = nn.Linear(c2, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.dropout(torch.flatten(self.pool(x), 1))
        return self.fc(x)


def build_bn_dropout(variant, gen, opset, seed):
    cfg = variant["bn_dropout"]
    model = BnDropoutNet(**cfg)
    reinit_(model)
    x = torch.randn(BATCH, cfg["in_ch"], cfg["height"], cfg["width"], generator=gen)
    inputs = collections.OrderedDict(x=x)
    outputs = ["logits"]
    dyn = {"x": {0: "batch"}, "logits": {0: "batch"}}
    notes = {"export": "training=TrainingMode.PRESERVE on an eval() model, so BatchNormalization is kept "
                       "(not folded into Conv) with its running statistics; eval-mode Dropout is dropped "
                       "by the exporter"}
    return model, inputs, outputs, dyn, notes


# ----------------------------------------------------------------------------------------
# External-data MLP
# ----------------------------------------------------------------------------------------
class TinyMlp(nn.Module):
    def __init__(self, in_features, hidden, out_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def build_external_data(variant, gen, opset, seed):
    cfg = variant["external_data"]
    model = TinyMlp(**cfg)
    reinit_(model)
    x = torch.randn(BATCH, cfg["in_features"], generator=gen)
    inputs = collections.OrderedDict(x=x)
    outputs = ["y"]
    dyn = {"x": {0: "batch"}, "y": {0: "batch"}}
    notes = {"external_data": "all initializers in model.onnx.data (size_threshold=0, one file)"}
    return model, inputs, outputs, dyn, notes


