"""The sampler's math without a network: DiT's CFG then the DDPM learned-range step (diffusion_reference.py's)."""

from bench_timing import median_ms

SAMPLER_STEPS, GUIDANCE_SCALE, GUIDED_CHANNELS = 50, 4.0, 3


def sampler_step_math(torch, dr, images, runs):
    base = dr.tables(dr.linear_betas(1e-4, 0.02, dr.T_TRAIN))
    kept = dr.iddpm_space_timesteps(dr.T_TRAIN, str(SAMPLER_STEPS))
    tab = dr.tables(dr.respaced_betas(base["alphas_cumprod"], torch.tensor(kept)))
    g = torch.Generator().manual_seed(0)
    x = torch.randn(images, 4, 8, 8, generator=g)
    raw = torch.randn(2 * images, 8, 8, 8, generator=g)
    noise = torch.randn(images, 4, 8, 8, generator=g)

    def walk():
        for i in range(SAMPLER_STEPS - 1, -1, -1):
            out = dr.cfg(raw[:images], raw[images:], GUIDANCE_SCALE, GUIDED_CHANNELS)
            _, _, mean, std = dr.ddpm_parts(tab, i, x, out)
            _ = mean + std * noise if i > 0 else mean

    with torch.no_grad():
        ms = median_ms(walk, runs) / SAMPLER_STEPS
    return ms, {"images": images, "latent": [4, 8, 8], "steps": SAMPLER_STEPS, "guidance_scale": GUIDANCE_SCALE,
                "guided_channels": GUIDED_CHANNELS, "variance": "learned_range",
                "timed": "CFG combine + DDPM step per step; no network"}
