"""Reference vectors for Evlf.OnnxHybrid.Data.Resampler / AdmCenterCrop, produced with Pillow.

Run with Debian's interpreter (python3-pil, python3-numpy):
    /usr/bin/python3 tests/Evlf.OnnxHybrid.Tests/Data/Vectors/make_pil_vectors.py
It rewrites pil_vectors.json beside this script. Inputs are generated, not stored: PilVectorTests.cs
rebuilds them with the same integer formula (`pixel` below).
"""
import base64
import json
import os

import numpy as np
from PIL import Image


def pixel(x, y, c, seed):
    # A smooth ramp that wraps (sharp edges) plus 6 bits of hashed noise; 32-bit unsigned arithmetic.
    h = ((x * 73856093) ^ (y * 19349663) ^ ((c + 3 * seed) * 83492791)) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0x5BD1E995) & 0xFFFFFFFF
    h ^= h >> 15
    return ((3 * x + 2 * y + 40 * c) % 192 + (h & 63)) & 255


def make(w, h, c, seed):
    a = np.zeros((h, w, c), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            for k in range(c):
                a[y, x, k] = pixel(x, y, k, seed)
    return Image.fromarray(a[:, :, 0] if c == 1 else a, "L" if c == 1 else "RGB")


# guided-diffusion's center_crop_arr, as DiT/MGD3/EVLF call it.
def center_crop_arr(pil_image, image_size):
    while min(*pil_image.size) >= 2 * image_size:
        pil_image = pil_image.resize(tuple(x // 2 for x in pil_image.size), resample=Image.BOX)
    scale = image_size / min(*pil_image.size)
    pil_image = pil_image.resize(tuple(round(x * scale) for x in pil_image.size), resample=Image.BICUBIC)
    arr = np.array(pil_image)
    crop_y = (arr.shape[0] - image_size) // 2
    crop_x = (arr.shape[1] - image_size) // 2
    return arr[crop_y: crop_y + image_size, crop_x: crop_x + image_size]


def b64(arr):
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()


cases = []
for (w, h, c, size, seed) in [(300, 220, 3, 64, 1), (97, 61, 3, 32, 2), (257, 256, 1, 128, 3),
                              (512, 700, 3, 100, 4), (333, 171, 3, 80, 5)]:
    out = center_crop_arr(make(w, h, c, seed), size)
    cases.append(dict(kind="center_crop_arr", w=w, h=h, c=c, seed=seed, size=size, out=b64(out)))

filters = {"box": Image.BOX, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
for (w, h, c, ow, oh, f, seed) in [(31, 17, 3, 15, 8, "box", 6), (40, 30, 3, 23, 51, "bilinear", 7),
                                   (16, 9, 1, 41, 22, "bicubic", 8), (100, 80, 3, 37, 29, "bicubic", 9),
                                   (64, 48, 3, 32, 24, "bicubic", 10)]:
    out = np.array(make(w, h, c, seed).resize((ow, oh), resample=filters[f]))
    cases.append(dict(kind="resize", filter=f, w=w, h=h, c=c, seed=seed, out_w=ow, out_h=oh, out=b64(out)))

import PIL
doc = dict(pillow=PIL.__version__, cases=cases)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pil_vectors.json"), "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
