"""The stages of `evlf distill --preset released` in PyTorch eager, each doing what its C# counterpart does (the list and
every difference from the C# run are in pipeline_reference.py's docstring). A stage reads what the stages before it
left on the object and returns nothing but the sample stage's set folder."""

import json
import os
import shutil
import time

import numpy as np
import torch

import diffusion_reference as dr
import fusion_reference as fr
import fusion_trainer
from distill_defaults import CFG_SCALE, ENCODER_CALL, FUSE_BATCH, FUSION_CONFIG, GUIDED_CHANNELS, MODE_LAMBDA, MODE_STOP_T
from idx_images import bundle_images
from minilm import MINILM_SHA256, MINILM_VERSION, WordPiece, minilm_folder, sha256
from onnx_eager import OnnxModule
from seeds import SEED_CLASS_SAMPLING, SEED_MODE_FLIPS, derive_seed


def encode(encoder, images, names):
    """DistillationPipeline.Encode: the VAE encoder's (mean, logvar) in calls of 100."""
    means, logvars = [], []
    with torch.no_grad():
        for start in range(0, images.shape[0], ENCODER_CALL):
            out = encoder.run({names["encoder_input"]: images[start:start + ENCODER_CALL]})
            means.append(out[names["mean_output"]])
            logvars.append(out[names["logvar_output"]])
    return torch.cat(means), torch.cat(logvars)


def fuse(fusion, latents, labels, class_tokens):
    """FusionEvaluation.Fuse: the fusion module in eval mode, clean class text, batches of 500."""
    parts = []
    with torch.no_grad():
        for start in range(0, latents.shape[0], FUSE_BATCH):
            y = labels[start:start + FUSE_BATCH]
            parts.append(fusion(latents[start:start + FUSE_BATCH], class_tokens[y]))
    return torch.cat(parts)


def class_folder(name):
    """ClassFolderNames.Sanitize for ordinary names: characters Windows forbids become '_', edges trimmed."""
    folder = "".join("_" if c in '/\\:*?"<>|' else c for c in name).lstrip(" ").rstrip(" .")
    return "_" + folder if folder.startswith(".") else folder


class DistillStages:
    """latents, text, fusion, fuse, modes, sample over one bundle (its bundle.json as `bundle`) and the IDX splits
    `data` = (train_x, train_y, test_x, test_y); `detail` receives what each stage did."""

    def __init__(self, args, bundle, data, detail):
        self.args, self.bundle, self.detail = args, bundle, detail
        self.train_x, self.train_y, self.test_x, self.test_y = data
        vae = bundle["vae"]
        self.encoder = OnnxModule(os.path.join(args.bundle, vae["encoder"])).eval()
        self.names = {"encoder_input": vae["encoder_input"], "mean_output": vae["mean_output"],
                      "logvar_output": vae["logvar_output"]}
        self.size = bundle["image"]["size"]

    def latents(self, folder):
        """VAE posteriors of every training image, plain and flipped; the modes read one seeded view per image."""
        images = bundle_images(torch, self.train_x, self.size)
        labels = torch.from_numpy(self.train_y.astype(np.int64))
        mean, logvar = encode(self.encoder, images, self.names)
        mean_flip, logvar_flip = encode(self.encoder, images.flip(3), self.names)
        for key, value in (("mean", mean), ("logvar", logvar), ("mean_flip", mean_flip), ("logvar_flip", logvar_flip),
                           ("labels", labels)):
            torch.save(value, os.path.join(folder, key + ".pt"))
        self.detail["latents"] = {"images": int(images.shape[0]), "encoded": 2 * int(images.shape[0]), "batch": ENCODER_CALL}
        self.means, self.means_flip, self.labels = mean, mean_flip, labels
        coins = torch.Generator().manual_seed(derive_seed(self.args.seed, SEED_MODE_FLIPS))
        self.mode_latents = torch.where(torch.rand(mean.shape[0], 1, 1, 1, generator=coins) < 0.5, mean_flip, mean)

    def text(self, folder):
        """MiniLM token embeddings and mean-pooled vectors of the prompt names."""
        config = self.bundle["text_encoder"]
        cache = minilm_folder(self.args.minilm)
        model_path, vocab_path = os.path.join(cache, "model.onnx"), os.path.join(cache, "vocab.txt")
        if not (os.path.exists(model_path) and os.path.exists(vocab_path)):
            raise SystemExit(f"{cache} lacks model.onnx/vocab.txt of all-MiniLM-L6-v2; run any evlf command that opens "
                             "the text encoder once (e.g. evlf inspect models/fmnist-ldm) or pass --minilm DIR")
        if sha256(model_path) != MINILM_SHA256:
            raise SystemExit(f"{model_path} is not the all-MiniLM-L6-v2 of {MINILM_VERSION} (SHA-256 differs)")
        tokenizer = WordPiece(vocab_path)
        prompts = self.bundle.get("prompt_names") or self.bundle["classes"]
        rows = [tokenizer.encode(p, config["tokenizer"]["max_length"]) for p in prompts]
        ids = torch.tensor([r[0] for r in rows], dtype=torch.int64)
        mask = torch.tensor([r[1] for r in rows], dtype=torch.int64)
        model = OnnxModule(model_path).eval()
        with torch.no_grad():
            tokens = model.run({config["input_ids"]: ids, config["attention_mask"]: mask,
                                config["token_type_ids"]: torch.zeros_like(ids)})[config["output"]]
        w = mask.to(tokens.dtype).unsqueeze(-1)
        vectors = (tokens * w).sum(1) / w.sum(1).clamp_min(1e-9)
        torch.save(tokens, os.path.join(folder, "class_tokens.pt"))
        torch.save(vectors, os.path.join(folder, "class_vectors.pt"))
        self.class_tokens, self.class_vectors = tokens, vectors

    def fusion_config(self):
        """FusionConfig for these latents and this text encoder."""
        return dict(FUSION_CONFIG, TextDim=int(self.class_tokens.shape[2]), TextLength=int(self.class_tokens.shape[1]),
                    LatentChannels=int(self.means.shape[1]), LatentSize=int(self.means.shape[2]))

    def fusion(self, folder):
        """EVLF stage A, then its held-out check on the test split (MSE ratio, top-1 retrieval)."""
        start = time.perf_counter()
        work = os.path.join(folder, "work")
        os.makedirs(work, exist_ok=True)
        fusion, projector, log, info = fusion_trainer.train_fusion(
            torch, fr, self.fusion_config(), (self.means, self.means_flip, self.labels, self.class_tokens, self.class_vectors),
            self.args.fusion_epochs, self.args.fusion_samples, self.args.seed, work)
        torch.save(fusion.state_dict(), os.path.join(folder, "fusion.pt"))
        torch.save(projector.state_dict(), os.path.join(folder, "projector.pt"))
        shutil.copy(os.path.join(work, "fusion-log.json"), os.path.join(folder, "fusion-log.json"))
        training = time.perf_counter() - start
        test_images = bundle_images(torch, self.test_x, self.size)
        test_labels = torch.from_numpy(self.test_y.astype(np.int64))
        test_mean, _ = encode(self.encoder, test_images, self.names)
        fused = fuse(fusion, test_mean, test_labels, self.class_tokens)
        with torch.no_grad():
            projected = torch.cat([projector(fused[s:s + FUSE_BATCH]) for s in range(0, fused.shape[0], FUSE_BATCH)])
        z = test_mean.double()
        ratio = float((fused.double() - z).pow(2).mean() / z.pow(2).mean())
        u = torch.nn.functional.normalize(projected, dim=1)
        v = torch.nn.functional.normalize(self.class_vectors, dim=1)
        top1 = float((u @ v.t()).argmax(1).eq(test_labels).float().mean())
        quality = {"Samples": int(test_mean.shape[0]), "MseRatio": ratio, "Top1": top1}
        with open(os.path.join(folder, "fusion-test.json"), "w") as f:
            json.dump(quality, f)
        shutil.rmtree(work)
        self.detail["fusion"] = dict(info, training_seconds=round(training, 3),
                                     test_seconds=round(time.perf_counter() - start - training, 3),
                                     test=quality, final_loss=log[-1] if log else None)
        self.fusion_module = fusion

    def fuse(self, folder):
        """The trained module over every (randomly flipped) training latent."""
        self.fused = fuse(self.fusion_module, self.mode_latents, self.labels, self.class_tokens)
        torch.save(self.fused, os.path.join(folder, "fused.pt"))

    def modes(self, folder):
        """Per-class k-means (scikit-learn) of the scaled, flattened fused latents."""
        from sklearn.cluster import KMeans
        k = self.args.ipc
        vectors = (self.fused * self.bundle["latent"]["scaling_factor"]).reshape(self.fused.shape[0], -1).numpy()
        centres, iterations = [], []
        for c in range(len(self.bundle["classes"])):
            rows = vectors[(self.labels == c).numpy()]
            km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd",
                        random_state=self.args.seed).fit(rows)
            centres.append(torch.from_numpy(km.cluster_centers_.astype(np.float32)))
            iterations.append(int(km.n_iter_))
        self.mode_centres = torch.stack(centres)
        torch.save(self.mode_centres, os.path.join(folder, "modes.pt"))
        self.detail["modes"] = {"rows": int(vectors.shape[0]), "dims": int(vectors.shape[1]), "k": k,
                                "lloyd_iterations": iterations}

    def sample(self, folder):
        """Mode-guided DiT sampling with CFG, VAE decode, one PNG per image; returns the set's folder."""
        from PIL import Image
        args, bundle, vae = self.args, self.bundle, self.bundle["vae"]
        d = next(v for v in bundle["denoisers"].values() if v["kind"] == "dit-class")
        scale, classes = bundle["latent"]["scaling_factor"], bundle["classes"]
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
                target = self.mode_centres[c].reshape(x.shape)
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
        self.detail["sample"] = {"denoiser_calls": calls, "denoiser_batch": 2 * args.ipc, "steps": len(kept),
                                 "denoise_seconds": round(denoise_seconds, 3),
                                 "decode_and_write_seconds": round(decode_seconds, 3)}
        return set_dir
