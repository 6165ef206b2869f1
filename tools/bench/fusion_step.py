"""EVLF stage A's optimizer step as FusionTrainer takes it, timed on random latents (fusion_reference.py's modules)."""

import math
import time

from distill_defaults import ACCUMULATION, BATCH, CLIP, LR_FUSION, LR_PROJECTOR, TEMPERATURE, WEIGHT_DECAY

FUSION_SAMPLES, FUSION_CLASSES = 64, 10


def fusion_training(torch, fr, steps, cfg):
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(FUSION_SAMPLES, cfg["LatentChannels"], cfg["LatentSize"], cfg["LatentSize"], generator=g)
    labels = torch.arange(FUSION_SAMPLES) % FUSION_CLASSES
    class_tokens = torch.randn(FUSION_CLASSES, cfg["TextLength"], cfg["TextDim"], generator=g)
    class_vectors = torch.randn(FUSION_CLASSES, cfg["TextDim"], generator=g)
    micro_per_epoch = FUSION_SAMPLES // BATCH
    ramp = micro_per_epoch * (steps * ACCUMULATION // micro_per_epoch) / 2
    logit_scale = math.log(1 / TEMPERATURE)

    start = time.perf_counter()
    torch.manual_seed(0)
    fusion = fr.CrossAttentionFusion(cfg).train()
    projector = fr.LatentProjector(cfg).train()
    parameters = list(fusion.parameters()) + list(projector.parameters())
    optimizer = torch.optim.AdamW([{"params": list(fusion.parameters()), "lr": LR_FUSION},
                                   {"params": list(projector.parameters()), "lr": LR_PROJECTOR}],
                                  weight_decay=WEIGHT_DECAY)
    order = None
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        total = 0.0
        for k in range(ACCUMULATION):
            micro = step * ACCUMULATION + k
            position = micro % micro_per_epoch
            if position == 0:
                order = torch.randperm(FUSION_SAMPLES, generator=g)
            idx = order[position * BATCH:(position + 1) * BATCH]
            z, y = latents[idx], labels[idx]
            loss, nce, rec, _ = fr.micro_batch_loss(fusion, projector, z, y, class_tokens, class_vectors, logit_scale, micro, ramp, g)
            total = total + loss / ACCUMULATION
            nce.item(), rec.item()  # FusionTrainer reads both for its log
        total.backward()
        torch.nn.utils.clip_grad_norm_(parameters, CLIP)
        optimizer.step()
        total.item()
    ms = (time.perf_counter() - start) * 1e3 / steps
    return ms, {"steps": steps, "batch": BATCH, "accumulation": ACCUMULATION, "samples": FUSION_SAMPLES, "config": cfg,
                "timed": "module construction and every step; no checkpoint or .onnx writing"}
