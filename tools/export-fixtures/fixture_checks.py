"""What the fixture script checks before and after exporting a fixture, so that a fixture can only pass the C# tests
by being computed right: every path of the module matters, and the exported graph is valid, complete and has a
dynamic batch axis."""

import collections

import onnx
import torch


def as_tuple(out):
    return (out,) if isinstance(out, torch.Tensor) else tuple(out)


def check_every_path_matters(name, model, inputs, int_ranges):
    """(1) every parameter receives a non-zero gradient from a random projection of the outputs (no dead branch,
    no zero gate); (2) perturbing any single input changes the outputs."""
    args = tuple(inputs.values())
    model.zero_grad(set_to_none=True)
    outs = as_tuple(model(*args))
    g = torch.Generator().manual_seed(12345)
    loss = sum((o * torch.randn(o.shape, generator=g)).sum() for o in outs)
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or float(p.grad.abs().max()) < 1e-9]
    model.zero_grad(set_to_none=True)
    if dead:
        raise RuntimeError("%s: parameters without gradient (dead path): %s" % (name, dead))
    with torch.no_grad():
        base = as_tuple(model(*args))
        for k, v in inputs.items():
            if v.dtype.is_floating_point:
                pert = v + 0.1 * torch.randn(v.shape, generator=g)
            else:
                pert = (v + 1) % int_ranges[k]
            changed = as_tuple(model(*[pert if kk == k else vv for kk, vv in inputs.items()]))
            delta = max(float((a - b).abs().max()) for a, b in zip(base, changed))
            if delta < 1e-4:
                raise RuntimeError("%s: output does not depend on input %s" % (name, k))


def op_histogram(graph):
    """op type → count, over the graph and its subgraphs; ops outside the default domain as `domain:op`."""
    hist = collections.Counter()

    def visit(g):
        for node in g.node:
            key = node.op_type if node.domain in ("", "ai.onnx") else "%s:%s" % (node.domain, node.op_type)
            hist[key] += 1
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
                for sub in attr.graphs:
                    visit(sub)

    visit(graph)
    return hist


def verify_export(name, model_path, input_names, output_names, external):
    """onnx.checker (full check; the path form resolves external data), strict shape inference, the graph's inputs
    and outputs against the names asked for (so no input was silently dropped), a dynamic axis 0 everywhere, and
    for `external` every initializer outside the file. Returns the loaded model and its graph inputs."""
    onnx.checker.check_model(model_path, full_check=True)
    m = onnx.load(model_path)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    inits = {i.name for i in m.graph.initializer}
    graph_inputs = [vi for vi in m.graph.input if vi.name not in inits]
    got_in = [vi.name for vi in graph_inputs]
    got_out = [vi.name for vi in m.graph.output]
    if got_in != input_names or got_out != output_names:
        raise RuntimeError("%s: graph io %s -> %s, expected %s -> %s" % (name, got_in, got_out, input_names,
                                                                        output_names))
    for vi in graph_inputs + list(m.graph.output):
        if vi.type.tensor_type.shape.dim[0].dim_param != "batch":
            raise RuntimeError("%s: %s has no dynamic batch axis" % (name, vi.name))
    if external and any(init.data_location != onnx.TensorProto.EXTERNAL
                        for init in onnx.load(model_path, load_external_data=False).graph.initializer):
        raise RuntimeError("%s: some initializer is stored inline" % name)
    control_flow = sorted(k for k in op_histogram(m.graph) if k in ("If", "Loop", "Scan"))
    if control_flow:
        print("WARNING: %s contains control flow: %s" % (name, control_flow))
    return m, graph_inputs
