"""One fixture folder: model.onnx (a plain torch.onnx.export: constant folding, no renaming, so the importer sees
what users' exports look like), the reference inputs and PyTorch outputs as serialized onnx.TensorProto, and
meta.json; and index.json over all fixture folders."""

import collections
import json
import os
import shutil
import zlib

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import onnx_export  # installs the opset-17 LayerNorm fix torch 1.13 needs (DiT's norms have no affine parameters)
from fixture_checks import as_tuple, check_every_path_matters, op_histogram, verify_export

BATCH = 2
NP_DTYPE_NAMES = {np.dtype(np.float32): "float32", np.dtype(np.int64): "int64", np.dtype(np.int32): "int32",
                  np.dtype(np.float64): "float64", np.dtype(np.bool_): "bool"}


def write_tensor(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name).SerializeToString())


def onnx_dims(vi):
    return [d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else None)
            for d in vi.type.tensor_type.shape.dim]


def folder_size(path):
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def _io_entry(vi, name, arr, folder):
    return {"name": name, "shape": list(arr.shape), "dtype": NP_DTYPE_NAMES[arr.dtype], "onnx_dims": onnx_dims(vi),
            "file": "%s/%s.pb" % (folder, name)}


def fixture_seed(base_seed, kind):
    """Each fixture seeds its weights and inputs from (seed, model), so `--only` writes exactly what a full run
    writes, and an `_op13` twin has the weights and inputs of its opset-17 fixture."""
    return (base_seed * 1000003 + zlib.crc32(kind.encode("utf-8"))) % (2 ** 31)


def export_fixture(name, kind, opset, build, config, variant, base_seed, out_root):
    """Builds the module (`build(gen, opset, seed)`), checks it, exports it at `opset`, verifies the file and writes
    the folder. Returns the op histogram and the folder's size in bytes."""
    seed = fixture_seed(base_seed, kind)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model, inputs, output_names, dynamic_axes, notes = build(gen, opset, seed)
    model = model.float().eval()
    int_ranges = notes.pop("_int_ranges", {})
    check_every_path_matters(name, model, inputs, int_ranges)

    folder = os.path.join(out_root, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(os.path.join(folder, "inputs"))
    os.makedirs(os.path.join(folder, "outputs"))
    model_path = os.path.join(folder, "model.onnx")
    input_names = list(inputs)
    args = tuple(inputs.values())
    with torch.no_grad():
        ref = as_tuple(model(*args))
    assert len(ref) == len(output_names)

    # bn_dropout keeps BatchNormalization as a node (an eval export would fold it into the Conv).
    training = torch.onnx.TrainingMode.PRESERVE if kind == "bn_dropout" else torch.onnx.TrainingMode.EVAL
    with torch.no_grad():
        torch.onnx.export(model, args, model_path, export_params=True, opset_version=opset, do_constant_folding=True,
                          input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
                          training=training, **onnx_export.LEGACY_EXPORTER)
    external = kind == "external_data"
    if external:
        onnx.save_model(onnx.load(model_path), model_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=0)
    m, graph_inputs = verify_export(name, model_path, input_names, output_names, external)
    hist = op_histogram(m.graph)

    io_in, io_out, out_stats = [], [], {}
    for vi, k in zip(graph_inputs, input_names):
        arr = inputs[k].numpy()
        write_tensor(os.path.join(folder, "inputs", k + ".pb"), arr, k)
        entry = _io_entry(vi, k, arr, "inputs")
        if k in int_ranges:
            entry["valid_range"] = [0, int_ranges[k]]  # [low, high) for random test inputs
        io_in.append(entry)
    for vi, k, t in zip(m.graph.output, output_names, ref):
        arr = t.detach().numpy()
        if not np.all(np.isfinite(arr)):
            raise RuntimeError("%s: non-finite reference output %s" % (name, k))
        write_tensor(os.path.join(folder, "outputs", k + ".pb"), arr, k)
        io_out.append(_io_entry(vi, k, arr, "outputs"))
        out_stats[k] = {"mean": float(arr.mean()), "std": float(arr.std()), "absmax": float(np.abs(arr).max())}
        if arr.dtype.kind == "f" and not (1e-2 < arr.std() < 50.0):
            print("WARNING: %s output %s has std %.3g" % (name, k, arr.std()))

    arrays = [numpy_helper.to_array(init) for init in m.graph.initializer]
    zero_inits = [init.name for init, arr in zip(m.graph.initializer, arrays)
                  if arr.size > 1 and arr.dtype.kind == "f" and not np.any(arr)]
    files = {os.path.relpath(os.path.join(root, f), folder).replace(os.sep, "/"): os.path.getsize(os.path.join(root, f))
             for root, _, fs in os.walk(folder) for f in fs}
    param_count = int(sum(p.numel() for p in model.parameters()))
    meta = collections.OrderedDict([
        ("fixture", name), ("model", kind), ("variant", variant), ("opset", opset),
        ("opset_import", {(o.domain or "ai.onnx"): o.version for o in m.opset_import}),
        ("ir_version", m.ir_version), ("producer", "%s %s" % (m.producer_name, m.producer_version)),
        ("torch_version", torch.__version__), ("onnx_version", onnx.__version__),
        ("seed", base_seed), ("fixture_seed", seed), ("config", config), ("batch", BATCH),
        ("inputs", io_in), ("outputs", io_out), ("dynamic_axes", dynamic_axes),
        ("param_count", param_count), ("buffer_elements", int(sum(b.numel() for b in model.buffers()))),
        ("onnx_initializer_count", len(m.graph.initializer)),
        ("onnx_initializer_elements", int(sum(arr.size for arr in arrays))),
        ("external_data", external), ("export_training_mode", str(training).split(".")[-1]),
        ("op_types", sorted(hist)),
        ("op_histogram", dict(sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))),
        ("node_count", int(sum(hist.values()))), ("output_stats", out_stats), ("notes", notes), ("files", files),
    ])
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json_dump(meta, f, indent=2)

    size = folder_size(folder)
    top = ", ".join("%s:%d" % kv for kv in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    print("%-18s opset %d  params %7d  nodes %4d  size %7.1f KB  top[%s]" % (
        name, opset, param_count, sum(hist.values()), size / 1024.0, top))
    print("%-18s ops: %s" % ("", " ".join(sorted(hist))))
    if zero_inits:
        print("%-18s note: all-zero float initializers (exporter constants): %s" % ("", zero_inits))
    return hist, size


def json_dump(obj, f, indent):
    json.dump(obj, f, indent=indent)
    f.write("\n")


def _io_str(entry):
    return "%s %s[%s]" % (entry["name"], entry["dtype"], ",".join(str(d) for d in entry["onnx_dims"]))


def write_index(out_root, generator):
    """index.json over every fixture folder present in out_root (so partial --only runs stay consistent)."""
    fixtures, union, total = [], collections.defaultdict(set), 0
    for entry in sorted(os.listdir(out_root)):
        meta_path = os.path.join(out_root, entry, "meta.json")
        if not os.path.isfile(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        size = folder_size(os.path.join(out_root, entry))
        total += size
        union[str(meta["opset"])].update(meta["op_types"])
        fixtures.append(collections.OrderedDict([
            ("fixture", meta["fixture"]), ("model", meta["model"]), ("variant", meta["variant"]),
            ("opset", meta["opset"]), ("seed", meta["seed"]), ("param_count", meta["param_count"]), ("bytes", size),
            ("inputs", [_io_str(i) for i in meta["inputs"]]), ("outputs", [_io_str(o) for o in meta["outputs"]]),
        ]))
    index = collections.OrderedDict([
        ("generator", generator), ("fixtures", fixtures),
        ("op_types_by_opset", {k: sorted(v) for k, v in sorted(union.items())}), ("total_bytes", total),
    ])
    with open(os.path.join(out_root, "index.json"), "w") as f:
        json_dump(index, f, indent=1)
