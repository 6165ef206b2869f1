"""Sizes of the fixtures per variant. The committed fixtures are `default`; the other variants write graphs that are
NOT in the repository, for acceptance checks of the importer.

`networks` are tools/export presets (random_configs.py's schema: what the state dicts of the official layouts
are drawn with); `default` is tools/export's `fixture` preset itself. `inputs` are the sizes the fixtures feed
those networks (the UNet's and the VAE decoder's latents, the UNet's context length, the CLIP row length).
`bert_text`, `bn_dropout` and `external_data` have no tools/export counterpart; their sizes are the
keyword arguments of the modules in small_networks.py."""

from random_configs import CONFIGS

BUNDLE_NETWORKS = ("dit", "unet", "vae", "text")

VARIANTS = {
    "default": {
        "networks": {k: CONFIGS["fixture"][k] for k in BUNDLE_NETWORKS},
        "inputs": dict(latent=(8, 8), context=7, seq=8),
        "bert_text": dict(vocab=100, hidden=32, layers=2, heads=4, intermediate=128, max_pos=16, type_vocab=2, seq=8),
        "bn_dropout": dict(in_ch=3, c1=8, c2=16, classes=5, height=8, width=8, p=0.5),
        "external_data": dict(in_features=16, hidden=32, out_features=8),
    },
    "small": {
        "networks": {
            "dit": dict(hidden=32, depth=1, heads=2, patch=2, in_channels=4, latent_size=4, classes=5, freq_dim=64,
                        mlp_ratio=4, learned_sigma=True, gamma_blocks=0),
            "unet": dict(widths=[8, 12], layers=1, groups=4, heads=2, attention_levels=[0], transformer_depth=1,
                         linear_projection=False, time_proj=8),
            "vae": dict(widths=[8, 8, 16], layers=1, groups=4, image_channels=3, latent_channels=4, image_size=16),
            "text": dict(hidden=16, layers=1, heads=2, mlp=32, positions=8, activation="quick_gelu", vocab=50),
        },
        "inputs": dict(latent=(4, 4), context=3, seq=5),
        "bert_text": dict(vocab=50, hidden=16, layers=1, heads=2, intermediate=32, max_pos=8, type_vocab=2, seq=5),
        "bn_dropout": dict(in_ch=3, c1=4, c2=8, classes=3, height=4, width=4, p=0.5),
        "external_data": dict(in_features=6, hidden=10, out_features=3),
    },
    # Wider, deeper, longer; flips the switches `default` leaves at SD 1.x (linear projections, erf GELU).
    "wide": {
        "networks": {
            "dit": dict(hidden=96, depth=3, heads=6, patch=2, in_channels=4, latent_size=12, classes=20,
                        freq_dim=256, mlp_ratio=4, learned_sigma=True, gamma_blocks=1),
            "unet": dict(widths=[32, 64], layers=2, groups=16, heads=4, attention_levels=[0], transformer_depth=1,
                         linear_projection=True, time_proj=32),
            "vae": dict(widths=[16, 32, 48], layers=2, groups=8, image_channels=3, latent_channels=4,
                        image_size=48),
            "text": dict(hidden=64, layers=3, heads=8, mlp=256, positions=24, activation="gelu", vocab=200),
        },
        "inputs": dict(latent=(12, 12), context=11, seq=12),
        "bert_text": dict(vocab=200, hidden=64, layers=3, heads=8, intermediate=256, max_pos=24, type_vocab=2,
                          seq=12),
        "bn_dropout": dict(in_ch=3, c1=16, c2=32, classes=7, height=12, width=12, p=0.5),
        "external_data": dict(in_features=24, hidden=64, out_features=12),
    },
    # Deliberately awkward sizes: non-square latents, odd head counts, prime-ish lengths, so that axis mix-ups
    # (tokens vs head_dim, H vs W) cannot hide behind equal sizes. The DiT stays square: its position table is a
    # square grid, as in the official model; it gets an odd grid (3×3) and 3 heads instead.
    "odd": {
        "networks": {
            "dit": dict(hidden=48, depth=3, heads=3, patch=2, in_channels=4, latent_size=6, classes=7, freq_dim=96,
                        mlp_ratio=4, learned_sigma=True, gamma_blocks=2),
            "unet": dict(widths=[12, 24], layers=1, groups=6, heads=3, attention_levels=[0], transformer_depth=1,
                         linear_projection=False, time_proj=12),
            "vae": dict(widths=[12, 12, 24], layers=1, groups=6, image_channels=3, latent_channels=4,
                        image_size=24),
            "text": dict(hidden=40, layers=3, heads=5, mlp=96, positions=13, activation="quick_gelu", vocab=77),
        },
        "inputs": dict(latent=(6, 10), context=5, seq=11),
        "bert_text": dict(vocab=77, hidden=24, layers=3, heads=3, intermediate=72, max_pos=13, type_vocab=2, seq=11),
        "bn_dropout": dict(in_ch=3, c1=6, c2=10, classes=4, height=6, width=10, p=0.5),
        "external_data": dict(in_features=11, hidden=19, out_features=5),
    },
}
