"""Image files in PIL's less common modes, with what PIL decodes from them (convert("RGB"), convert("L")).

Run with Debian's interpreter (python3-pil, python3-numpy):
    /usr/bin/python3 tests/Evlf.OnnxHybrid.Tests/Data/Vectors/make_pil_modes.py
It rewrites modes/ and pil_modes.json beside this script; ImageCodecModeTests.cs reads them.
"""
import base64
import json
import os

import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "modes")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
rgb = Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8), "RGB")

files = {
    "palette.png": lambda p: rgb.convert("P").save(p),
    "gray_alpha.png": lambda p: rgb.convert("LA").save(p),
    "rgba.png": lambda p: rgb.convert("RGBA").save(p),
    "gray.png": lambda p: rgb.convert("L").save(p),
    "rgb.jpg": lambda p: rgb.save(p, quality=95),
    "gray.jpg": lambda p: rgb.convert("L").save(p, quality=95),
    "cmyk.jpg": lambda p: rgb.convert("CMYK").save(p, quality=95),
    "rgb.bmp": lambda p: rgb.save(p),
}
cases = []
for name, save in files.items():
    path = os.path.join(out, name)
    save(path)
    im = Image.open(path)
    cases.append(dict(file=name, mode=im.mode, w=im.width, h=im.height,
                      rgb=base64.b64encode(np.array(im.convert("RGB")).tobytes()).decode(),
                      l=base64.b64encode(np.array(im.convert("L")).tobytes()).decode()))
import PIL
with open(os.path.join(here, "pil_modes.json"), "w") as f:
    json.dump(dict(pillow=PIL.__version__, cases=cases), f, indent=1)
    f.write("\n")
