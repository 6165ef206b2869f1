"""The settings of `evlf distill --preset released --fusion-samples 12000` that its PyTorch-eager twins reproduce
(src/Evlf.Cli/Commands/DistillCommand.cs, DistillOptions, FusionTrainingOptions, FusionConfig): one sample per image
from noise; the default preset's candidates, choice and real starts have no twin."""

IPC, SEED, STEPS, CFG_SCALE, GUIDED_CHANNELS = 10, 0, 50, 4.0, 3
MODE_LAMBDA, MODE_STOP_T = 0.1, 25
FUSION_EPOCHS, FUSION_SAMPLES = 4, 12000         # FusionTrainingFlags.DefaultSamples; 0 = every image
BATCH, ACCUMULATION = 16, 2
LR_FUSION, LR_PROJECTOR, WEIGHT_DECAY, CLIP = 3e-4, 1e-4, 1e-2, 1.0
TEMPERATURE = 0.07                                # λ1, λ2 ramp, condition dropout/noise: fusion_reference.py
CHECKPOINT_EVERY = 500
FUSE_BATCH = 500                                  # FusionEvaluation.Batch
ENCODER_CALL = 100                                # DistillationPipeline.Encode's VAE encoder calls
# FusionConfig defaults (docs/PIPELINES.md §2); the text sizes come from the text encoder (MiniLM: 16 tokens of 384).
FUSION_CONFIG = {"LatentChannels": 4, "LatentSize": 8, "TextDim": 384, "TextLength": 16, "Width": 256, "Heads": 4,
                 "Layers": 2, "Dropout": 0.1, "RefreshKeyValues": False, "PreNorm": False, "ProjectorChannels": 64,
                 "ProjectorKernel": 4, "ProjectorPool": 4}
