"""One sampler step in float64: DDPM (learned-range, fixed-small, fixed-large variance; optional x0 clipping), DDIM in
diffusers' formulation on the base schedule (t → t − T//K), and classifier-free guidance (all channels, or DiT's
first `channels`). Written from the equations (DDPM, IDDPM, DDIM papers; docs/PIPELINES.md §1, §3, §6) in a deliberately
different style from the C# code, which walks a respaced process, for diffusion_reference.py's parity vectors."""

import torch


def ddpm_parts(tab, i, x, out, variance="learned_range", clip=False):
    c = x.shape[1]
    eps, v = out[:, :c], out[:, c:]
    x0 = tab["sqrt_recip_alphas_cumprod"][i] * x - tab["sqrt_recipm1_alphas_cumprod"][i] * eps
    if clip:
        x0 = x0.clamp(-1, 1)
    mean = tab["posterior_mean_coef1"][i] * x0 + tab["posterior_mean_coef2"][i] * x
    if variance == "learned_range":
        f = (v + 1) / 2
        logvar = f * tab["log_betas"][i] + (1 - f) * tab["posterior_log_variance_clipped"][i]
    elif variance == "fixed_small":
        logvar = tab["posterior_log_variance_clipped"][i] * torch.ones_like(x)
    elif variance == "fixed_large":
        large = torch.cat([tab["posterior_variance"][1:2], tab["betas"][1:]])
        logvar = torch.log(large[i]) * torch.ones_like(x)
    else:
        raise ValueError(variance)
    return x0, eps, mean, torch.exp(0.5 * logvar)


def ddim_diffusers(acp_base, timesteps_desc, k, x, eps_out, noise, eta, final_alpha):
    """diffusers DDIMScheduler.step at descending position k (t -> t - T//K) for an eps model."""
    total, steps = len(acp_base), len(timesteps_desc)
    t = timesteps_desc[k]
    prev_t = t - total // steps
    a_t = acp_base[t]
    a_prev = acp_base[prev_t] if prev_t >= 0 else final_alpha
    c = x.shape[1]
    eps = eps_out[:, :c]
    x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    variance = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    std = eta * variance.sqrt()
    mean = a_prev.sqrt() * x0 + (1 - a_prev - std ** 2).sqrt() * eps
    sample = mean + std * noise if eta > 0 else mean
    return x0, mean, std, sample


def cfg(cond, uncond, scale, channels=None):
    if channels is None:
        return uncond + scale * (cond - uncond)
    guided = uncond[:, :channels] + scale * (cond[:, :channels] - uncond[:, :channels])
    return torch.cat([guided, cond[:, channels:]], 1)
