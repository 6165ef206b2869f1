"""Fashion-MNIST-style IDX files and their images as the bundle's VAE reads them."""

import gzip
import os
import struct


def read_idx(folder, stem):
    """An IDX file (gzip or plain) as a numpy array: big-endian magic 0x0000 08 <dims>, then dims, then bytes."""
    import numpy as np
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                data = f.read()
            magic = struct.unpack(">I", data[:4])[0]
            if magic >> 8 != 0x08:
                raise SystemExit(f"{path} is not an unsigned-byte IDX file (magic {magic:#x})")
            dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
            return np.frombuffer(data, np.uint8, offset=4 + 4 * len(dims)).reshape(dims)
    raise SystemExit(f"{folder} has no {stem}(.gz); expected a Fashion-MNIST IDX folder")


def bundle_images(torch, raw, size):
    """BundleImages.Load: uint8 N×h×w -> N×1×S×S float32 in [-1, 1], smaller images padded black at the centre."""
    n, h, w = raw.shape
    x = torch.from_numpy(raw.copy()).to(torch.float32) / 127.5 - 1.0
    left, top = (size - w) // 2, (size - h) // 2
    x = torch.nn.functional.pad(x, (left, size - w - left, top, size - h - top), value=-1.0)
    return x.unsqueeze(1).contiguous()
