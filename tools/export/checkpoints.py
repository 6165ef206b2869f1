"""Reading and writing state dicts: .safetensors (own parser, no library needed), .bin/.pt/.pth/.ckpt
(torch.load), a diffusers/transformers folder (config.json + weights), and the wrappers training scripts
put around a state dict ({"ema": ...}, {"model": ...}, {"state_dict": ...})."""

import json
import os
import struct

import numpy as np
import torch

# safetensors dtype names -> (numpy dtype, torch dtype). BF16 has no numpy type: its bits travel as int16.
_SAFETENSORS_DTYPES = {
    "F64": (np.float64, torch.float64), "F32": (np.float32, torch.float32), "F16": (np.float16, torch.float16),
    "BF16": (np.int16, torch.bfloat16), "I64": (np.int64, torch.int64), "I32": (np.int32, torch.int32),
    "I16": (np.int16, torch.int16), "I8": (np.int8, torch.int8), "U8": (np.uint8, torch.uint8),
    "BOOL": (np.bool_, torch.bool),
}
_TORCH_TO_SAFETENSORS = {v[1]: k for k, v in _SAFETENSORS_DTYPES.items()}

WEIGHT_FILE_NAMES = ("diffusion_pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.bin",
                     "pytorch_model.bin", "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors")


class CheckpointError(Exception):
    """A user-caused problem with a checkpoint file (missing, corrupt, unexpected layout)."""


def read_safetensors(path):
    """The tensors of a .safetensors file: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError("'%s' is too short to be a .safetensors file" % path)
        (n,) = struct.unpack("<Q", head)
        size = os.path.getsize(path)
        if n > size - 8:
            raise CheckpointError("'%s' has a header length of %d bytes but the file has %d" % (path, n, size))
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError("'%s' does not start with a safetensors JSON header (%s)" % (path, e))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _SAFETENSORS_DTYPES:
            raise CheckpointError("'%s': tensor %s has dtype %s, which this reader does not know" % (path, name,
                                                                                                     info["dtype"]))
        np_dtype, torch_dtype = _SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        if end > data.size or begin > end:
            raise CheckpointError("'%s': tensor %s lies outside the file (truncated download?)" % (path, name))
        arr = np.frombuffer(data[begin:end].tobytes(), dtype=np_dtype).reshape(info["shape"])
        t = torch.from_numpy(arr.copy())
        tensors[name] = t.view(torch.bfloat16) if torch_dtype == torch.bfloat16 else t
    return tensors


def write_safetensors(path, tensors, metadata=None):
    """Writes tensors in the .safetensors layout (used for the random checkpoints)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": _TORCH_TO_SAFETENSORS[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # keep the data 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def _unwrap(obj, path):
    """Finds the state dict inside what torch.load returned; EMA weights win over raw ones."""
    for key in ("ema", "state_dict", "model", "module"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            return _unwrap(obj[key], path)
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError("'%s' does not hold a state dict (a mapping of parameter names to tensors)" % path)
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def resolve_weights(path):
    """A weights file, or the weights file inside a diffusers/transformers component folder."""
    if os.path.isdir(path):
        for name in WEIGHT_FILE_NAMES:
            candidate = os.path.join(path, name)
            if os.path.isfile(candidate):
                return candidate
        raise CheckpointError("folder '%s' has none of %s" % (path, ", ".join(WEIGHT_FILE_NAMES)))
    if not os.path.isfile(path):
        raise CheckpointError("'%s' was not found" % path)
    return path


def load_state_dict(path):
    """Loads a state dict as float32 tensors (fp16/bf16 checkpoints are widened; the export decides the dtype)."""
    path = resolve_weights(path)
    if path.endswith(".safetensors"):
        sd = read_safetensors(path)
    else:
        try:
            obj = torch.load(path, map_location="cpu")
        except Exception as e:  # pickle errors come in many types
            raise CheckpointError("'%s' could not be read by torch.load (%s)" % (path, str(e).splitlines()[0]))
        sd = _unwrap(obj, path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}


def load_config(path):
    """config.json next to the weights (diffusers/transformers layout), or {} when there is none."""
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    candidate = os.path.join(folder, "config.json")
    if os.path.isfile(candidate):
        with open(candidate, encoding="utf-8") as f:
            return json.load(f)
    return {}


def strip_prefix(sd, prefixes):
    """Removes the first of `prefixes` that every key of interest starts with (e.g. "model.diffusion_model.")."""
    for prefix in prefixes:
        if any(k.startswith(prefix) for k in sd):
            return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    return sd


def require(sd, key, what):
    if key not in sd:
        near = sorted(sd)[:5]
        raise CheckpointError("%s: the state dict has no '%s' (first keys: %s)" % (what, key, ", ".join(near)))
    return sd[key]


def count_indexed(sd, prefix):
    """How many consecutive children `prefix{i}.` the state dict has (0 when none)."""
    n = 0
    while any(k.startswith("%s%d." % (prefix, n)) for k in sd):
        n += 1
    return n


def load_strict(module, sd, what):
    """Loads `sd` into `module`; any missing or unexpected name is a user-facing error."""
    missing, unexpected = module.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise CheckpointError("%s: the state dict does not match the architecture read from its shapes "
                              "(missing %s; unexpected %s)" % (what, missing[:5], unexpected[:5]))
