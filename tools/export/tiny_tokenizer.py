"""A tiny hand-made CLIP BPE vocabulary in Hugging Face's CLIPTokenizer format (vocab.json + merges.txt), enough
to tokenize the random bundles' class names and prompts."""

import json
import os


def byte_symbols():
    """CLIP/GPT-2's byte → printable-symbol table: printable Latin-1 bytes stand for themselves, the other 68
    bytes get the code points 256, 257, … in byte order. Listed in CLIP's vocabulary order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    rest = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + n) for n in range(len(rest))]


# Merges for the words of the tiny class names and "a photo of a …"; rank = order.
TINY_MERGES = ["c a", "ca t</w>", "d o", "do g</w>", "b i", "bi r", "bir d</w>", "p h", "ph o", "t o</w>",
               "pho to</w>", "o f</w>"]


def write_tiny_tokenizer(folder):
    """vocab.json + merges.txt in Hugging Face's CLIPTokenizer format: 256 byte symbols, the same with </w>,
    one token per merge, then <|startoftext|> and <|endoftext|> (so EOS, the SD 1.x pad id, is the last id)."""
    os.makedirs(folder, exist_ok=True)
    symbols = byte_symbols()
    tokens = symbols + [s + "</w>" for s in symbols] + [m.replace(" ", "") for m in TINY_MERGES]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(tokens)}
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(TINY_MERGES) + "\n")
    return len(vocab)

