#!/usr/bin/python3
"""PyTorch reference for the diffusion math of Evlf.OnnxHybrid (namespace Evlf.OnnxHybrid.Diffusion).

Writes small parity vectors that the C# tests in tests/Evlf.OnnxHybrid.Tests/Diffusion/ compare against.
Run with the Debian interpreter that has torch (1.13) and onnx (1.12):

    /usr/bin/python3 tools/reference/diffusion_reference.py \
        --out tests/Evlf.OnnxHybrid.Tests/Diffusion/Vectors

Layout: <out>/<case>/<name>.pb is a serialized onnx.TensorProto (onnx.numpy_helper), and
<out>/<case>/params.json holds the case's scalars. <out>/index.json lists the cases. Inputs a C#
step consumes are stored as float32 values (the dtype the samplers run in); everything computed here
is float64, from those same values. The output is deterministic (byte-identical on rerun).

The math is written from the equations (DDPM, IDDPM, DDIM papers; docs/PIPELINES.md §1, §3, §6) and from the
documented behaviour of IDDPM's space_timesteps and diffusers' set_timesteps / img2img, in a deliberately
different style from the C# code: whole-table tensor expressions and the diffusers formulation of DDIM on
the base schedule (t -> t - T//K), where the C# walks a respaced process. It lives in noise_schedules.py,
timestep_spacing.py, sampler_steps.py and toy_denoisers.py; this script draws the cases and writes them
(vector_writer.py). The math stays importable from here: the bench references import it as `dr.…`.
"""

import argparse
import json
import os
import shutil

import numpy as np
import torch

from noise_schedules import F64, T_TRAIN, linear_betas, scaled_linear_betas, tables
from sampler_steps import cfg, ddim_diffusers, ddpm_parts
from timestep_spacing import diffusers_timesteps, iddpm_space_timesteps, respaced_betas
from toy_denoisers import toy_dit, toy_unet
from vector_writer import Writer

TABLE_INDICES = [0, 1, 2, 3, 10, 100, 500, 998, 999]
SHAPE = (2, 4, 4, 4)  # N, C, H, W of the step vectors


def f32(gen, *shape, scale=1.0):
    """Float32 inputs (the C# samplers' dtype); the reference computes on their float64 values."""
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    w = Writer(args.out)

    dit_betas = linear_betas(1e-4, 0.02, T_TRAIN)
    sd_betas = scaled_linear_betas(0.00085, 0.012, T_TRAIN)
    dit = tables(dit_betas)
    sd = tables(sd_betas)

    # ---- schedule tables and q_sample / x0-from-eps on the base schedules
    for name, tab, seed in (("schedule_linear", dit, 1), ("schedule_scaled_linear", sd, 2)):
        gen = torch.Generator().manual_seed(seed)
        idx = torch.tensor(TABLE_INDICES)
        tensors = {k: v[idx] for k, v in tab.items()}
        tensors["indices"] = idx.to(torch.int64)
        x0, noise = f32(gen, 3, 4, 2, 2), f32(gen, 3, 4, 2, 2)
        t = torch.tensor([0, 500, 999], dtype=torch.int64)
        sa = tab["sqrt_alphas_cumprod"][t][:, None, None, None]
        sb = tab["sqrt_one_minus_alphas_cumprod"][t][:, None, None, None]
        xt = sa * x0.to(F64) + sb * noise.to(F64)
        tensors.update(x0=x0, noise=noise, t=t, x_t=xt)
        # x0 from eps at a single t, from the float32-rounded x_t
        xt32 = xt.to(torch.float32)
        tensors["x_t_f32"] = xt32
        tensors["x0_from_eps_t500"] = tab["sqrt_recip_alphas_cumprod"][500] * xt32.to(F64) \
            - tab["sqrt_recipm1_alphas_cumprod"][500] * noise.to(F64)
        w.case(name, tensors, {"train_timesteps": T_TRAIN, "alphas_cumprod_last": float(tab["alphas_cumprod"][-1])})

    # ---- IDDPM respacing
    for spec in ("50", "ddim50", "7", "10,15,5", "1"):
        kept = iddpm_space_timesteps(T_TRAIN, spec)
        nb = respaced_betas(dit["alphas_cumprod"], torch.tensor(kept))
        rt = tables(nb)
        w.case("respace_" + spec.replace(",", "_"), {
            "kept": torch.tensor(kept, dtype=torch.int64),
            "betas": nb,
            "alphas_cumprod": rt["alphas_cumprod"],
            "posterior_variance": rt["posterior_variance"],
            "posterior_log_variance_clipped": rt["posterior_log_variance_clipped"],
            "posterior_mean_coef1": rt["posterior_mean_coef1"],
            "posterior_mean_coef2": rt["posterior_mean_coef2"],
        }, {"spec": spec, "base": "linear"})

    # ---- diffusers spacings (timesteps only)
    for spacing, steps, offset in (("leading", 50, 1), ("leading", 7, 0), ("trailing", 50, 0), ("trailing", 7, 0),
                                   ("linspace", 50, 0), ("linspace", 7, 0)):
        ts = diffusers_timesteps(T_TRAIN, steps, spacing, offset)
        w.case(f"spacing_{spacing}_{steps}", {"timesteps": torch.tensor(ts, dtype=torch.int64)},
               {"spacing": spacing, "steps": steps, "steps_offset": offset})

    # ---- DDPM steps on DiT's 50 respaced steps
    kept50 = iddpm_space_timesteps(T_TRAIN, "50")
    r50 = tables(respaced_betas(dit["alphas_cumprod"], torch.tensor(kept50)))
    for variance, clip, seed in (("learned_range", False, 10), ("learned_range", True, 11),
                                 ("fixed_small", False, 12), ("fixed_large", False, 13)):
        for i in (49, 30, 1, 0):
            gen = torch.Generator().manual_seed(seed * 100 + i)
            x = f32(gen, *SHAPE, scale=1.5 if i > 30 else 1.0)
            eps = f32(gen, *SHAPE)
            v = torch.tanh(f32(gen, *SHAPE))
            out = torch.cat([eps, v], 1)
            noise = f32(gen, *SHAPE)
            x0, _, mean, std = ddpm_parts(r50, i, x.to(F64), out.to(F64), variance, clip)
            sample = mean + (1.0 if i != 0 else 0.0) * std * noise.to(F64)
            w.case(f"ddpm_{variance}{'_clip' if clip else ''}_i{i}",
                   {"x": x, "model_output": out, "noise": noise, "pred_x0": x0, "mean": mean, "std": std, "sample": sample},
                   {"index": i, "timestep": kept50[i], "spacing": "50", "variance": variance, "clip": clip})

    # ---- DDIM: SD schedule, leading spacing with offset 1, set_alpha_to_one False (diffusers' formulation)
    sd_desc = diffusers_timesteps(T_TRAIN, 50, "leading", 1)[::-1]
    for eta in (0.0, 1.0):
        for k in (0, 29, 49):
            i = 49 - k
            gen = torch.Generator().manual_seed(200 + int(eta) * 50 + k)
            x, eps, noise = f32(gen, *SHAPE), f32(gen, *SHAPE), f32(gen, *SHAPE)
            x0, mean, std, sample = ddim_diffusers(sd["alphas_cumprod"], sd_desc, k, x.to(F64), eps.to(F64),
                                                   noise.to(F64), eta, sd["alphas_cumprod"][0])
            w.case(f"ddim_sd_eta{int(eta)}_i{i}",
                   {"x": x, "model_output": eps, "noise": noise, "pred_x0": x0, "mean": mean,
                    "std": std.reshape(1), "sample": sample},
                   {"index": i, "timestep": sd_desc[k], "eta": eta, "steps": 50, "spacing": "leading",
                    "steps_offset": 1, "set_alpha_to_one": False})
    # ---- DDIM: DiT schedule, IDDPM spacing "50", 8-channel output (first 4 are eps), alpha_prev(0) = 1
    for eta, i in ((0.5, 49), (0.5, 20), (0.5, 0)):
        gen = torch.Generator().manual_seed(300 + i)
        x, out, noise = f32(gen, *SHAPE), f32(gen, 2, 8, 4, 4), f32(gen, *SHAPE)
        a = dit["alphas_cumprod"][kept50[i]]
        a_prev = dit["alphas_cumprod"][kept50[i - 1]] if i > 0 else torch.tensor(1.0, dtype=F64)
        eps = out[:, :4].to(F64)
        x0 = (x.to(F64) - (1 - a).sqrt() * eps) / a.sqrt()
        sigma = eta * ((1 - a_prev) / (1 - a)).sqrt() * (1 - a / a_prev).sqrt()
        mean = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).sqrt() * eps
        sample = mean + sigma * noise.to(F64)
        w.case(f"ddim_dit_eta05_i{i}",
               {"x": x, "model_output": out, "noise": noise, "pred_x0": x0, "mean": mean, "std": sigma.reshape(1),
                "sample": sample},
               {"index": i, "timestep": kept50[i], "eta": eta, "spacing": "50", "set_alpha_to_one": True})

    # ---- classifier-free guidance
    gen = torch.Generator().manual_seed(400)
    cond, uncond = f32(gen, 2, 8, 4, 4), f32(gen, 2, 8, 4, 4)
    w.case("cfg", {"cond": cond, "uncond": uncond,
                   "standard_s4": cfg(cond.to(F64), uncond.to(F64), 4.0),
                   "dit_s4": cfg(cond.to(F64), uncond.to(F64), 4.0, 3),
                   "standard_s1": cfg(cond.to(F64), uncond.to(F64), 1.0),
                   "dit_s1": cfg(cond.to(F64), uncond.to(F64), 1.0, 3)},
           {"scale": 4.0, "dit_channels": 3})

    # ---- mode-guided DDPM steps (MGD3), lambda 0.1, stop_t 25
    lam, stop_t = 0.1, 25
    for i in (40, 26, 25, 0):
        gen = torch.Generator().manual_seed(500 + i)
        x, eps, noise, modes = f32(gen, *SHAPE), f32(gen, *SHAPE), f32(gen, *SHAPE), f32(gen, *SHAPE, scale=0.5)
        v = torch.tanh(f32(gen, *SHAPE))
        out = torch.cat([eps, v], 1)
        x0, _, mean, std = ddpm_parts(r50, i, x.to(F64), out.to(F64))
        g = -lam * std * (x0 - modes.to(F64)) if i > stop_t else torch.zeros_like(x0)
        sample = mean + g + (1.0 if i != 0 else 0.0) * std * noise.to(F64)
        w.case(f"mode_guidance_i{i}",
               {"x": x, "model_output": out, "noise": noise, "modes": modes, "g": g, "sample": sample},
               {"index": i, "lambda": lam, "stop_t": stop_t, "guided": i > stop_t})

    # ---- img2img start (diffusers' rule) on SD's leading/offset-1 schedule
    sd_lead = diffusers_timesteps(T_TRAIN, 50, "leading", 1)
    pndm_desc = list(reversed(sd_lead[:-1] + sd_lead[-2:-1] + sd_lead[-1:]))  # PNDM with skip_prk_steps
    for strength in (0.7, 0.3, 0.75, 1.0):
        gen = torch.Generator().manual_seed(600 + int(strength * 100))
        x0, noise = f32(gen, *SHAPE), f32(gen, *SHAPE)
        k = 50
        init = min(int(k * strength), k)
        ddim_desc = sd_lead[::-1]
        ts = ddim_desc[max(k - init, 0):]
        pndm_ts = pndm_desc[max(k - init, 0):]
        t = ts[0]
        xt = sd["sqrt_alphas_cumprod"][t] * x0.to(F64) + sd["sqrt_one_minus_alphas_cumprod"][t] * noise.to(F64)
        w.case(f"img2img_s{int(round(strength * 100))}", {"x0": x0, "noise": noise, "x_t": xt},
               {"strength": strength, "steps": k, "timestep": t, "evaluations": len(ts),
                "pndm_timestep": pndm_ts[0], "pndm_evaluations": len(pndm_ts)})

    # ---- full loop: MGD3 on a 10-step respaced DiT schedule (float64), toy DiT with DiT-style CFG
    gen = torch.Generator().manual_seed(700)
    kept10 = iddpm_space_timesteps(T_TRAIN, "10")
    r10 = tables(respaced_betas(dit["alphas_cumprod"], torch.tensor(kept10)))
    toy = {"A": torch.randn(8, 4, generator=gen, dtype=F64) * 0.5,
           "b": torch.randn(8, generator=gen, dtype=F64),
           "E": torch.randn(6, 8, generator=gen, dtype=F64) * 0.5}
    n = 2
    x_T = torch.randn(n, 4, 4, 4, generator=gen, dtype=F64)
    modes = torch.randn(n, 64, generator=gen, dtype=F64) * 0.5
    noises = torch.randn(10, n, 4, 4, 4, generator=gen, dtype=F64)
    y = torch.tensor([1, 3], dtype=torch.int64)
    y_null = torch.tensor([5], dtype=torch.int64)
    scale, lam, stop_t = 4.0, 0.1, 4
    x = x_T.clone()
    trajectory = []
    for i in reversed(range(10)):
        t = torch.full((2 * n,), kept10[i], dtype=torch.int64)
        out = toy_dit(torch.cat([x, x]), t, torch.cat([y, y_null.expand(n)]), toy)
        guided = cfg(out[:n], out[n:], scale, 3)
        x0, _, mean, std = ddpm_parts(r10, i, x, guided)
        g = -lam * std * (x0 - modes.reshape(x.shape)) if i > stop_t else 0.0
        x = mean + g + (std * noises[i] if i != 0 else 0.0)
        trajectory.append(x)
    w.case("loop_mgd3", {"A": toy["A"], "b": toy["b"], "E": toy["E"], "x_T": x_T, "y": y, "y_null": y_null,
                         "modes": modes, "noises": noises, "trajectory": torch.stack(trajectory), "x_final": x},
           {"spacing": "10", "scale": scale, "guidance_channels": 3, "lambda": lam, "stop_t": stop_t,
            "timesteps": kept10})

    # ---- full loop: img2img with DDIM (eta 0.5) on SD's 10-step leading schedule, standard CFG s = 8
    gen = torch.Generator().manual_seed(800)
    toy = {"A": torch.randn(4, 4, generator=gen, dtype=F64) * 0.5,
           "b": torch.randn(4, generator=gen, dtype=F64),
           "W": torch.randn(4, 4, generator=gen, dtype=F64) * 0.5}
    steps, strength, eta, scale = 10, 0.7, 0.5, 8.0
    desc = diffusers_timesteps(T_TRAIN, steps, "leading", 1)[::-1]
    init = min(int(steps * strength), steps)
    first = steps - init
    x0 = torch.randn(n, 4, 4, 4, generator=gen, dtype=F64)
    start_noise = torch.randn(n, 4, 4, 4, generator=gen, dtype=F64)
    cond = torch.randn(n, 4, generator=gen, dtype=F64)
    null = torch.zeros(1, 4, dtype=F64)
    noises = torch.randn(steps, n, 4, 4, 4, generator=gen, dtype=F64)  # noises[i] for respaced index i
    t0 = desc[first]
    x = sd["sqrt_alphas_cumprod"][t0] * x0 + sd["sqrt_one_minus_alphas_cumprod"][t0] * start_noise
    x_start = x.clone()
    for k in range(first, steps):
        i = steps - 1 - k
        t = torch.full((2 * n,), desc[k], dtype=torch.int64)
        out = toy_unet(torch.cat([x, x]), t, torch.cat([cond, null.expand(n, 4)]), toy)
        eps = cfg(out[:n], out[n:], scale)
        _, _, _, x = ddim_diffusers(sd["alphas_cumprod"], desc, k, x, eps, noises[i], eta, sd["alphas_cumprod"][0])
    w.case("loop_img2img_ddim", {"A": toy["A"], "b": toy["b"], "W": toy["W"], "x0": x0, "start_noise": start_noise,
                                 "x_start": x_start, "cond": cond, "null": null, "noises": noises, "x_final": x},
           {"steps": steps, "strength": strength, "eta": eta, "scale": scale, "start_timestep": t0,
            "evaluations": steps - first, "spacing": "leading", "steps_offset": 1, "set_alpha_to_one": False})

    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"script": "tools/reference/diffusion_reference.py", "torch": torch.__version__,
                   "numpy": np.__version__, "cases": w.cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(w.cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
