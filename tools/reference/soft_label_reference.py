#!/usr/bin/python3
"""PyTorch reference for the soft-label distillation loss (Evlf.OnnxHybrid.Evaluation.SoftLabelLoss).

Writes parity vectors that tests/Evlf.OnnxHybrid.Tests/Evaluation/SoftLabelLossTests.cs compares against:

    /usr/bin/python3 tools/reference/soft_label_reference.py \
        --out tests/Evlf.OnnxHybrid.Tests/Evaluation/Vectors

The loss here is torch's own nn.KLDivLoss(reduction="batchmean") on (log_softmax(student / T), softmax(teacher / T)),
as RDED's validation/main.py and SRe2L's train_KD.py call it, times T^2 (Hinton et al. 2015); the gradient with respect
to the student's logits comes from autograd. Inputs are float32 (the C# dtype); the reference computes in float64 from
those same values. Deterministic (byte-identical on rerun).
"""

import argparse
import os
import shutil

import torch

from vector_writer import Writer

CASES = [  # name, N, K, logit scale, temperature
    ("kl_t1", 4, 10, 1.0, 1.0),
    ("kl_t4", 5, 10, 3.0, 4.0),
    ("kl_t20", 6, 10, 8.0, 20.0),
    ("kl_t20_sharp", 3, 7, 40.0, 20.0),
    ("kl_t05", 4, 3, 2.0, 0.5),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    w = Writer(args.out)
    gen = torch.Generator().manual_seed(19)
    for name, n, k, scale, t in CASES:
        student = torch.randn(n, k, generator=gen, dtype=torch.float32) * scale
        teacher = torch.randn(n, k, generator=gen, dtype=torch.float32) * scale
        s = student.double().requires_grad_(True)
        kl = torch.nn.KLDivLoss(reduction="batchmean")(torch.log_softmax(s / t, dim=1), torch.softmax(teacher.double() / t, dim=1))
        loss = kl * t * t
        loss.backward()
        w.case(name, {"student": student, "teacher": teacher, "loss": loss.detach().reshape(1), "grad": s.grad.detach()},
               {"temperature": t})


if __name__ == "__main__":
    main()
