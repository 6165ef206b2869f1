"""ConvNet-3 trained under the DC/DSA protocol (DsaAugmentation's operations written out in torch), timed."""

import math
import time

# DSA's evaluation constants (DsaParameters).
DSA_OPS = ["color", "crop", "cutout", "flip", "scale", "rotate"]
FLIP, SCALE, ROTATE_DEGREES, CROP_PAD, CUTOUT = 0.5, 1.2, 15.0, 0.125, 0.5
BRIGHTNESS, SATURATION, CONTRAST = 1.0, 2.0, 0.5


def convnet3(nn, channels, size, classes, width=128, depth=3):
    layers, c, h = [], channels, size
    for d in range(depth):
        padding = 3 if channels == 1 and d == 0 else 1
        layers += [nn.Conv2d(c, width, 3, padding=padding), nn.GroupNorm(width, width, affine=True),
                   nn.ReLU(inplace=True), nn.AvgPool2d(2, 2)]
        c, h = width, (h + 2 * padding - 2) // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * h, classes))


def dsa(torch, F, x, g):
    """One DSA operation group for the whole batch, parameters drawn per sample."""
    op = DSA_OPS[int(torch.randint(len(DSA_OPS), (1,), generator=g))]
    n, _, h, w = x.shape

    def u():
        return torch.rand(n, generator=g).view(n, 1, 1, 1)

    if op == "color":
        x = x + (u() - 0.5) * BRIGHTNESS
        m = x.mean(1, keepdim=True)
        x = (x - m) * (u() * SATURATION) + m
        m = x.mean((1, 2, 3), keepdim=True)
        return (x - m) * (u() + CONTRAST) + m
    if op == "crop":
        s = int(h * CROP_PAD + 0.5)
        dx = torch.randint(-s, s + 1, (n, 1), generator=g)
        dy = torch.randint(-s, s + 1, (n, 1), generator=g)
        padded = F.pad(x, (1, 1, 1, 1))
        rows = (torch.arange(h) + dx + 1).clamp(0, h + 1)
        cols = (torch.arange(w) + dy + 1).clamp(0, w + 1)
        return padded[torch.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    if op == "cutout":
        s = int(h * CUTOUT + 0.5)
        ox = torch.randint(0, h + (1 - s % 2), (n, 1), generator=g) - s // 2
        oy = torch.randint(0, w + (1 - s % 2), (n, 1), generator=g) - s // 2
        r, c = torch.arange(h), torch.arange(w)
        inside = ((r >= ox) & (r < ox + s))[:, None, :, None] & ((c >= oy) & (c < oy + s))[:, None, None, :]
        return x.masked_fill(inside, 0)
    if op == "flip":
        return torch.where(u() < FLIP, x.flip(3), x)
    if op == "scale":
        sx = torch.rand(n, generator=g) * (SCALE - 1 / SCALE) + 1 / SCALE
        sy = torch.rand(n, generator=g) * (SCALE - 1 / SCALE) + 1 / SCALE
        zero = torch.zeros(n)
        theta = torch.stack([torch.stack([sx, zero, zero], 1), torch.stack([zero, sy, zero], 1)], 1)
    else:
        a = (torch.rand(n, generator=g) - 0.5) * 2 * ROTATE_DEGREES / 180 * math.pi
        zero = torch.zeros(n)
        theta = torch.stack([torch.stack([a.cos(), -a.sin(), zero], 1), torch.stack([a.sin(), a.cos(), zero], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def convnet_training(torch, images, epochs, width, classes=10, lr=0.01, batch=256):
    nn, F = torch.nn, torch.nn.functional
    g = torch.Generator().manual_seed(0)
    x = torch.randn(images, 1, 28, 28, generator=g)
    y = torch.arange(images) % classes
    torch.manual_seed(0)
    model = convnet3(nn, 1, 28, classes, width)

    start = time.perf_counter()
    model.train()
    rate = lr
    optimizer = torch.optim.SGD(model.parameters(), rate, momentum=0.9, weight_decay=5e-4)
    for epoch in range(epochs):
        if (lr if epoch < epochs // 2 else lr * 0.1) != rate:
            rate = lr * 0.1
            optimizer = torch.optim.SGD(model.parameters(), rate, momentum=0.9, weight_decay=5e-4)
        order = torch.randperm(images, generator=g)
        for first in range(0, images, batch):
            idx = order[first:first + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(dsa(torch, F, x[idx], g)), y[idx])
            loss.backward()
            optimizer.step()
            loss.item()
    seconds = time.perf_counter() - start
    return images * epochs / seconds, {"images": images, "epochs": epochs, "batch": batch, "width": width, "dsa": True,
                                       "data": "N(0, 1) images 1x28x28"}
