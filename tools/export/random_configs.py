"""Named presets of the random-initialised checkpoints (`export.py --random-config NAME`), as a table of sizes
in the official layouts' terms. `random_state_dicts.py` turns a preset into state dicts.

- `tiny`: what tests/Evlf.OnnxHybrid.Tests/Fixtures/Export holds.
- `fixture`: the networks of the importer fixtures (tests/Evlf.OnnxHybrid.Tests/Fixtures/<name>, written by
  tools/export-fixtures): wider than `tiny` where the importer tests need it (a DiT with 10 classes and a 256-wide
  timestep sinusoid, a 32-wide text encoder with a 100-id vocabulary and 16 positions), still a few hundred KB.
- `small`: bigger, and flips the switches `tiny` leaves at SD 1.x defaults (linear projections, erf GELU, more
  heads), for acceptance runs on graphs that are not in the repository.
- `full`: the official sizes.
"""

CONFIGS = {
    "tiny": {
        "dit": dict(hidden=32, depth=2, heads=2, patch=2, in_channels=4, latent_size=8, classes=5, freq_dim=64,
                    mlp_ratio=4, learned_sigma=True, gamma_blocks=1),
        "dit_vae": dict(widths=[8, 16, 16], layers=1, groups=4, image_channels=3, latent_channels=4,
                        image_size=32),
        "vae": dict(widths=[8, 16, 16, 16], layers=2, groups=4, image_channels=3, latent_channels=4,
                    image_size=64),
        "unet": dict(widths=[8, 12, 16, 16], layers=2, groups=4, heads=2, attention_levels=[0, 1, 2],
                     transformer_depth=1, linear_projection=False, time_proj=8),
        "text": dict(hidden=16, layers=2, heads=2, mlp=32, positions=77, activation="quick_gelu"),
        "classes": ["cat", "dog", "bird"],
    },
    "fixture": {
        "dit": dict(hidden=64, depth=2, heads=4, patch=2, in_channels=4, latent_size=8, classes=10, freq_dim=256,
                    mlp_ratio=4, learned_sigma=True, gamma_blocks=1),
        "dit_vae": dict(widths=[8, 16, 24], layers=1, groups=4, image_channels=3, latent_channels=4,
                        image_size=32),
        "vae": dict(widths=[8, 16, 24], layers=1, groups=4, image_channels=3, latent_channels=4, image_size=32),
        "unet": dict(widths=[8, 16], layers=1, groups=4, heads=2, attention_levels=[0], transformer_depth=1,
                     linear_projection=False, time_proj=8),
        "text": dict(hidden=32, layers=2, heads=4, mlp=128, positions=16, activation="quick_gelu", vocab=100),
        "classes": ["cat", "dog", "bird"],
    },
    "small": {
        "dit": dict(hidden=64, depth=3, heads=4, patch=2, in_channels=4, latent_size=16, classes=10, freq_dim=256,
                    mlp_ratio=4, learned_sigma=True, gamma_blocks=1),
        "dit_vae": dict(widths=[16, 32, 32, 32], layers=2, groups=8, image_channels=3, latent_channels=4,
                        image_size=128),
        "vae": dict(widths=[16, 32, 32, 32], layers=2, groups=8, image_channels=3, latent_channels=4,
                    image_size=64),
        "unet": dict(widths=[16, 32, 48, 48], layers=2, groups=8, heads=4, attention_levels=[0, 1, 2],
                     transformer_depth=1, linear_projection=True, time_proj=16),
        "text": dict(hidden=32, layers=3, heads=4, mlp=64, positions=77, activation="gelu"),
        "classes": ["cat", "dog", "bird", "photo"],
    },
    # The official sizes (DiT-XL/2-256 with Minimax's DiffFit gammas, its VAE at 256 px; SD 1.5 at 512 px with
    # CLIP ViT-L/14's 49408-row table), random: for timing and for the > 2 GB path. Gigabytes; minutes.
    "full": {
        "dit": dict(hidden=1152, depth=28, heads=16, patch=2, in_channels=4, latent_size=32, classes=1000,
                    freq_dim=256, mlp_ratio=4, learned_sigma=True, gamma_blocks=14),
        "dit_vae": dict(widths=[128, 256, 512, 512], layers=2, groups=32, image_channels=3, latent_channels=4,
                        image_size=256),
        "vae": dict(widths=[128, 256, 512, 512], layers=2, groups=32, image_channels=3, latent_channels=4,
                    image_size=512),
        "unet": dict(widths=[320, 640, 1280, 1280], layers=2, groups=32, heads=8, attention_levels=[0, 1, 2],
                     transformer_depth=1, linear_projection=False, time_proj=320),
        "text": dict(hidden=768, layers=12, heads=12, mlp=3072, positions=77, activation="quick_gelu",
                     vocab=49408),
        "classes": ["cat", "dog", "bird"],
    },
}
