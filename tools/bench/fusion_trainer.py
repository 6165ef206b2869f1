"""FusionTrainer.Train in PyTorch eager: EVLF stage A with fusion_reference.py's modules and torch.optim.AdamW."""

import json
import os

from distill_defaults import ACCUMULATION, BATCH, CHECKPOINT_EVERY, CLIP, LR_FUSION, LR_PROJECTOR, TEMPERATURE, WEIGHT_DECAY
from seeds import SEED_EPOCH_ORDER, SEED_FUSION_DROPOUT, SEED_FUSION_POOL, SEED_STEP_NOISE, derive_seed


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
