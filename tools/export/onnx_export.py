"""torch.onnx export of one bundle component, and what happens to the file afterwards:

1. PyTorch-side sanity: the module is traced at batch 2 and the trace is run at batch 1 (and another image
   size or sequence length where those are dynamic) against eager mode: catches sizes frozen into the graph,
   since the ONNX export records the same trace.
2. torch.onnx.export, opset 17, constant folding, dynamic axes; identical initializers are NOT merged (torch
   would tie e.g. DiffFit's all-ones gammas into one tensor, which a fine-tune must train separately).
3. Initializers that constant folding renamed (`onnx::MatMul_123` = a transposed Linear weight, `onnx::Mul_45` =
   an unsqueezed GroupNorm weight) get their parameter's name back (`…weight.T`, or the name itself), found by
   value; finetune patterns in bundle.json match these names.
4. --fp16: every parameter initializer is stored as float16 and followed by a Cast to float32, so the
   arithmetic, the inputs and the outputs stay float32 (see README: fp16).
5. Saved with external data (one `<file>.data` beside it) when the initializers exceed the threshold (2 GB:
   protobuf's limit), then onnx.checker (full check) and a check of input/output names and dynamic axes.
"""

import hashlib
import inspect
import os
import tempfile
import warnings

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

OPSET = 17
TWO_GB = 2 * 1024 ** 3


def _install_layer_norm_fix():
    """torch 1.13's opset-17 LayerNormalization symbolic emits an empty scale/bias for LayerNorm without affine
    parameters (DiT's norms), which the checker rejects; emit constant ones/zeros instead."""
    from torch.onnx import symbolic_helper as sh

    @sh.parse_args("v", "is", "v", "v", "f", "none")
    def layer_norm(g, x, normalized_shape, weight, bias, eps, cudnn_enable):
        shape = list(normalized_shape)
        if sh._is_none(weight):
            weight = g.op("Constant", value_t=torch.ones(shape, dtype=torch.float32))
        if sh._is_none(bias):
            bias = g.op("Constant", value_t=torch.zeros(shape, dtype=torch.float32))
        return g.op("LayerNormalization", x, weight, bias, epsilon_f=eps, axis_i=-len(shape))

    torch.onnx.register_custom_op_symbolic("aten::layer_norm", layer_norm, OPSET)


if int(torch.__version__.split(".")[0]) < 2:  # fixed in torch 2
    _install_layer_norm_fix()
torch._C._jit_pass_onnx_deduplicate_initializers = lambda graph, params, training: params
# torch ≥ 2.9 defaults to the dynamo exporter; this tool relies on the TorchScript one (custom symbolics, names).
LEGACY_EXPORTER = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def _as_tuple(out):
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


def grow_batch(inputs, batch):
    """The same inputs at another batch size: rows repeated cyclically."""
    return {k: t[torch.arange(batch) % t.shape[0]] for k, t in inputs.items()}


def trace_check(module, inputs, alternatives):
    """Largest |traced − eager| over `alternatives` (inputs of another batch size, and image size or sequence
    length where those are dynamic) for a trace recorded on `inputs`: 0 when no size is frozen into the graph,
    inf when the trace cannot even run on them."""
    worst = 0.0
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, tuple(inputs.values()), check_trace=False)
        for alt in alternatives:
            args = tuple(alt[k] for k in inputs)
            try:
                a = _as_tuple(traced(*args))
            except RuntimeError:
                return float("inf")
            b = _as_tuple(module(*args))
            if any(x.shape != y.shape for x, y in zip(a, b)):
                return float("inf")
            worst = max([worst] + [float((x - y).abs().max()) for x, y in zip(a, b)])
    return worst


def _digest(arr):
    return hashlib.sha1(np.ascontiguousarray(arr, dtype=np.float32).tobytes()).hexdigest()


def restore_names(model, module):
    """Renames folded initializers after the parameter whose values they hold (plain, or transposed for
    2-D weights); returns how many were renamed. Ambiguous matches keep their generated names."""
    params = dict(module.named_parameters())
    params.update(dict(module.named_buffers()))
    graph = model.graph
    taken = {i.name for i in graph.initializer}
    index = {}
    for name, p in params.items():
        if name in taken or not p.is_floating_point():
            continue
        arr = p.detach().float().numpy()
        index.setdefault((arr.size, _digest(arr)), []).append(name)
        if arr.ndim == 2:
            index.setdefault((arr.size, _digest(arr.T)), []).append(name + ".T")
    renames = {}
    for init in graph.initializer:
        if not init.name.startswith("onnx::") or init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        names = [n for n in index.get((arr.size, _digest(arr)), []) if n not in taken]
        if len(names) == 2 and names[1] == names[0] + ".T":  # a (k, 1) weight equals its transpose
            names = names[:1]
        if len(names) == 1:
            renames[init.name] = names[0]
            taken.add(names[0])
    for init in graph.initializer:
        if init.name in renames:
            init.name = renames[init.name]
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    return len(renames)


def compact_value_names(model):
    """Renames intermediate values ("/down_blocks.0/attentions.1/…/Reshape_output_0") to short ids; node names
    keep the module path. On small graphs these strings are most of the file."""
    graph = model.graph
    keep = {o.name for o in graph.output} | {i.name for i in graph.input} | {i.name for i in graph.initializer}
    renames = {}
    for node in graph.node:
        for i, name in enumerate(node.output):
            if name and name not in keep:
                renames[name] = "v%d" % len(renames)
                node.output[i] = renames[name]
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    del graph.value_info[:]


def fix_output_dims(model, reference, dynamic_axes):
    """Writes the sizes torch's shape inference lost (e.g. the channels after a chunk) into the declared outputs:
    every axis that is not dynamic gets the size PyTorch produced."""
    for out in model.graph.output:
        shape = out.type.tensor_type.shape
        sizes = reference[out.name].shape
        while len(shape.dim) < len(sizes):
            shape.dim.add()
        for axis, size in enumerate(sizes):
            if axis not in dynamic_axes.get(out.name, {}):
                shape.dim[axis].Clear()
                shape.dim[axis].dim_value = int(size)


def parameter_names(module):
    """Initializer names that hold trainable weights (a parameter, or its transpose)."""
    names = {n for n, _ in module.named_parameters()}
    return names | {n + ".T" for n in names}


def to_fp16_storage(model, weight_names):
    """Stores the named float32 initializers as float16 with a Cast back to float32, so the arithmetic stays
    float32. A table read by Gather (embeddings) is gathered in float16 and the rows are cast, so it stays a
    plain initializer input of the Gather (RandomInputs finds index ranges that way) and is never widened
    whole. Buffers and folded constants (timestep frequencies, position tables) stay float32: fp16 would
    spoil them."""
    graph = model.graph
    converted = set()
    for init in graph.initializer:
        if init.name in weight_names and init.data_type == onnx.TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
            converted.add(init.name)
    nodes, casts = [], {}
    for node in graph.node:
        if node.op_type == "Gather" and node.input[0] in converted:
            out = node.output[0]
            node.output[0] = out + ".fp16"
            nodes.append(node)
            nodes.append(helper.make_node("Cast", [out + ".fp16"], [out], name=node.name + "/to_fp32",
                                          to=onnx.TensorProto.FLOAT))
            continue
        for i, name in enumerate(node.input):
            if name in converted:
                if name not in casts:
                    casts[name] = helper.make_node("Cast", [name], [name + ".fp32"], name="cast_" + name,
                                                   to=onnx.TensorProto.FLOAT)
                node.input[i] = name + ".fp32"
        nodes.append(node)
    del graph.node[:]
    graph.node.extend(list(casts.values()) + nodes)
    return len(converted)


def round_to_fp16(module):
    """The PyTorch counterpart of fp16 storage: parameters rounded to float16 and back."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.half().float())


def initializer_bytes(model):
    total = 0
    for init in model.graph.initializer:
        if init.HasField("raw_data"):
            total += len(init.raw_data)
        else:
            total += numpy_helper.to_array(init).nbytes
    return total


def save(model, path, external_threshold):
    """Saves inline, or with every initializer over 1 KiB in `<file>.data` when the total exceeds the threshold."""
    data_name = os.path.basename(path) + ".data"
    data_path = os.path.join(os.path.dirname(path), data_name)
    if os.path.exists(data_path):
        os.remove(data_path)
    external = initializer_bytes(model) > external_threshold
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data_name,
                        size_threshold=1024, convert_attribute=False)
    else:
        onnx.save_model(model, path)
    return external


def _dims(value_info):
    return [d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else None)
            for d in value_info.type.tensor_type.shape.dim]


def verify(path, input_names, output_names, dynamic_axes):
    """onnx.checker (path form: resolves external data) and the graph's inputs/outputs against what was asked."""
    onnx.checker.check_model(path)
    inferred = path + ".inferred"  # infer_shapes_path would otherwise rewrite the model in place
    try:
        onnx.shape_inference.infer_shapes_path(path, inferred, check_type=True, strict_mode=True)
    finally:
        if os.path.exists(inferred):
            os.remove(inferred)
    m = onnx.load(path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    got_in = [i.name for i in m.graph.input if i.name not in inits]
    got_out = [o.name for o in m.graph.output]
    if got_in != list(input_names) or got_out != list(output_names):
        raise RuntimeError("%s: graph has inputs %s and outputs %s, expected %s and %s"
                           % (path, got_in, got_out, list(input_names), list(output_names)))
    for vi in list(m.graph.input) + list(m.graph.output):
        for axis, name in dynamic_axes.get(vi.name, {}).items():
            if _dims(vi)[axis] != name:
                raise RuntimeError("%s: %s axis %d is %s, expected the dynamic axis '%s'"
                                   % (path, vi.name, axis, _dims(vi)[axis], name))
    return {"inputs": {i.name: _dims(i) for i in m.graph.input if i.name not in inits},
            "outputs": {o.name: _dims(o) for o in m.graph.output}}


def export(module, inputs, output_names, dynamic_axes, path, fp16=False, external_threshold=TWO_GB,
           alternatives=None, log=print):
    """Exports `module` called with `inputs` (an ordered name → tensor dict) to `path`. `alternatives`: other
    inputs the trace must generalise to (default: batch 1). Returns a report and the PyTorch outputs on `inputs`
    (float32, after fp16 rounding of the weights when fp16)."""
    module = module.float().eval()
    if fp16:
        round_to_fp16(module)
    args = tuple(inputs.values())
    with torch.no_grad():
        reference = _as_tuple(module(*args))
    if len(reference) != len(output_names):
        raise RuntimeError("%s: module returns %d outputs, expected %s" % (path, len(reference), output_names))
    alternatives = alternatives if alternatives is not None else [grow_batch(inputs, 1)]
    frozen = trace_check(module, inputs, alternatives)
    if frozen > 1e-4:
        raise RuntimeError("%s: the traced graph differs from eager mode on other input sizes by %.3g; some size "
                           "is frozen into the trace" % (path, frozen))

    with tempfile.TemporaryDirectory(prefix="evlf-export-") as tmp:
        raw = os.path.join(tmp, "model.onnx")
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, raw, export_params=True, opset_version=OPSET, do_constant_folding=True,
                              input_names=list(inputs), output_names=list(output_names), dynamic_axes=dynamic_axes,
                              **LEGACY_EXPORTER)
        model = onnx.load(raw)  # loads external data torch may have written for > 2 GB graphs
    renamed = restore_names(model, module)
    compact_value_names(model)
    fix_output_dims(model, dict(zip(output_names, reference)), dynamic_axes)
    weights = parameter_names(module)
    converted = to_fp16_storage(model, weights) if fp16 else 0
    model.producer_name = "evlf tools/export (torch %s)" % torch.__version__
    external = save(model, path, external_threshold)
    io = verify(path, list(inputs), list(output_names), dynamic_axes)
    size = os.path.getsize(path) + (os.path.getsize(path + ".data") if external else 0)
    report = {
        "file": os.path.basename(path),
        "bytes": size,
        "external_data": external,
        "fp16_initializers": converted,
        "renamed_initializers": renamed,
        "trace_check_max_abs_diff": frozen,
        "parameters": int(sum(p.numel() for p in module.parameters())),
        "io": io,
        "output_absmax": {n: float(t.abs().max()) for n, t in zip(output_names, reference)},
    }
    log("  %s: %.2f MiB%s%s, %d parameters, trace vs eager on other sizes max_abs_diff %.2e, checker ok"
        % (report["file"], size / 2 ** 20, ", external data" if external else "",
           ", fp16 weights" if fp16 else "", report["parameters"], frozen))
    return report, dict(zip(output_names, reference))
