"""Toy denoisers for the full-loop parity cases: small closed-form functions the C# test implements too, so that a
whole sampling loop can be compared without a network."""

import torch

from noise_schedules import F64


def toy_dit(x, t, y, w):
    """out = tanh(A·x (per pixel, 4 -> 8) + b·t/1000 + E[y]); channels 0-3 eps, 4-7 v."""
    h = torch.einsum("oc,nchw->nohw", w["A"], x)
    h = h + (w["b"] * (t.to(F64) / 1000.0)[:, None])[:, :, None, None]
    h = h + w["E"][y][:, :, None, None]
    return torch.tanh(h)


def toy_unet(x, t, cond, w):
    """eps = tanh(A·x + b·t/1000 + W·cond) (per pixel, 4 -> 4); cond is (N, 4)."""
    h = torch.einsum("oc,nchw->nohw", w["A"], x)
    h = h + (w["b"] * (t.to(F64) / 1000.0)[:, None])[:, :, None, None]
    h = h + torch.einsum("od,nd->no", w["W"], cond)[:, :, None, None]
    return torch.tanh(h)
