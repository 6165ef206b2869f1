#!/usr/bin/python3
"""scikit-learn reference for the clustering of Evlf.OnnxHybrid (namespace Evlf.OnnxHybrid.Clustering).

Writes small vectors that the C# tests in tests/Evlf.OnnxHybrid.Tests/Clustering/ compare against.
Needs the Debian interpreter with numpy, onnx and scikit-learn (apt-get install python3-sklearn):

    /usr/bin/python3 tools/reference/kmeans_reference.py \
        --out tests/Evlf.OnnxHybrid.Tests/Clustering/Vectors

Layout (the same as tools/reference/diffusion_reference.py): <out>/<case>/<name>.pb is a serialized
onnx.TensorProto (onnx.numpy_helper) and <out>/<case>/params.json holds the case's scalars;
<out>/index.json lists the cases. The output is deterministic (byte-identical on rerun).

Three kinds of case:
  quality_*   a data set, k, and scikit-learn's KMeans inertias over many seeds (k-means++, one init each):
              the best is the reference the C# k-means must match or beat; the mean/median say what one
              k-means++ run typically reaches.
  lloyd_*     Lloyd iterations from given starting centres (no randomness): scikit-learn's centroids,
              labels, inertia and iteration count, to be reproduced exactly up to rounding. The empty_*
              variants start with a centre no row is nearest to, exercising the empty-cluster relocation.
  minibatch_* MiniBatchKMeans.partial_fit over fixed chunks from given centres with reassignment off
              (exact), and, for quality, the inertias it reaches from k-means++ over many seeds.
  pca_*       PCA (exact SVD solver): mean, components (sign up to scikit-learn's convention), explained
              variance and its ratio, and the projection of the data.

scikit-learn is the reference implementation here; this script only calls its public API.
"""

import argparse
import json
import os
import shutil

import numpy as np
import sklearn
from onnx import numpy_helper
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA

QUALITY_SEEDS = 200
MINIBATCH_SEEDS = 50


def write_case(out, name, tensors, params):
    folder = os.path.join(out, name)
    os.makedirs(folder)
    for key, value in tensors.items():
        proto = numpy_helper.from_array(np.ascontiguousarray(value), name=key)
        with open(os.path.join(folder, key + ".pb"), "wb") as f:
            f.write(proto.SerializeToString())
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(params, f, indent=1, sort_keys=True)
        f.write("\n")


def kmeans_inertias(x, k, seeds):
    values = []
    for seed in range(seeds):
        km = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
                    algorithm="lloyd", random_state=seed).fit(x)
        values.append(float(km.inertia_))
    return np.array(values)


def quality_case(out, name, x, k):
    inertias = kmeans_inertias(x, k, QUALITY_SEEDS)
    write_case(out, name, {"x": x}, {
        "k": k,
        "seeds": QUALITY_SEEDS,
        "best_inertia": float(inertias.min()),
        "mean_inertia": float(inertias.mean()),
        "median_inertia": float(np.median(inertias)),
        "worst_inertia": float(inertias.max()),
        "p10_inertia": float(np.percentile(inertias, 10)),
        # How often one k-means++ run lands within 1e-3 of the best: how hard the data set is.
        "hit_rate": float(np.mean(inertias <= inertias.min() * (1 + 1e-3))),
    })


def lloyd_case(out, name, x, init, tol=1e-4, max_iter=300):
    km = KMeans(n_clusters=init.shape[0], init=init, n_init=1, max_iter=max_iter, tol=tol,
                algorithm="lloyd").fit(x)
    write_case(out, name, {
        "x": x,
        "init": init,
        "centroids": km.cluster_centers_.astype(x.dtype),
        "labels": km.labels_.astype(np.int64),
    }, {
        "tol": tol,
        "max_iter": max_iter,
        "inertia": float(km.inertia_),
        "n_iter": int(km.n_iter_),
    })


def minibatch_exact_case(out, name, x, init, chunk):
    mbk = MiniBatchKMeans(n_clusters=init.shape[0], init=init, n_init=1, batch_size=chunk,
                          reassignment_ratio=0.0, compute_labels=False)
    for start in range(0, x.shape[0], chunk):
        mbk.partial_fit(x[start:start + chunk])
    write_case(out, name, {
        "x": x,
        "init": init,
        "centroids": mbk.cluster_centers_.astype(x.dtype),
        "counts": mbk._counts.astype(np.float64),  # per-centre weights; private, read only for the check
    }, {"chunk": chunk, "steps": int(mbk.n_steps_)})


def minibatch_quality_case(out, name, x, k, chunk, lloyd_best):
    inertias = []
    for seed in range(MINIBATCH_SEEDS):
        mbk = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=1, compute_labels=False)
        for start in range(0, x.shape[0], chunk):
            mbk.partial_fit(x[start:start + chunk])
        d = ((x[:, None, :].astype(np.float64) - mbk.cluster_centers_[None].astype(np.float64)) ** 2).sum(-1)
        inertias.append(float(d.min(1).sum()))
    inertias = np.array(inertias)
    write_case(out, name, {"x": x}, {
        "k": k,
        "chunk": chunk,
        "seeds": MINIBATCH_SEEDS,
        "lloyd_best_inertia": lloyd_best,
        "best_inertia": float(inertias.min()),
        "mean_inertia": float(inertias.mean()),
        "median_inertia": float(np.median(inertias)),
    })


def pca_case(out, name, x, components):
    pca = PCA(n_components=components, svd_solver="full").fit(x)
    write_case(out, name, {
        "x": x,
        "mean": pca.mean_,
        "components": pca.components_,
        "explained_variance": pca.explained_variance_,
        "explained_variance_ratio": pca.explained_variance_ratio_,
        "z": pca.transform(x),
    }, {"components": components})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)

    # --- quality: data sets from easy (well separated) to hard (no cluster structure) ---
    blobs16, _ = make_blobs(n_samples=600, n_features=16, centers=10, cluster_std=1.0, random_state=1)
    quality_case(args.out, "quality_blobs_d16", blobs16.astype(np.float64), 10)

    blobs256, _ = make_blobs(n_samples=600, n_features=256, centers=10, cluster_std=6.0, random_state=2)
    quality_case(args.out, "quality_blobs_d256_f32", blobs256.astype(np.float32), 10)

    overlap, _ = make_blobs(n_samples=600, n_features=16, centers=7,
                            cluster_std=[1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0], random_state=3)
    quality_case(args.out, "quality_overlap_d16", overlap.astype(np.float64), 10)

    rng = np.random.RandomState(4)
    uniform = rng.uniform(size=(600, 8))
    quality_case(args.out, "quality_uniform_d8", uniform.astype(np.float64), 10)

    # --- lloyd: exact iterations from fixed starting centres ---
    small, _ = make_blobs(n_samples=200, n_features=5, centers=6, cluster_std=2.0, random_state=5)
    small = small.astype(np.float64)
    init = small[:6].copy()  # the first six rows: a poor start that needs several iterations
    lloyd_case(args.out, "lloyd_d5", small, init)
    lloyd_case(args.out, "lloyd_d5_tol0", small, init, tol=0.0)
    lloyd_case(args.out, "lloyd_d5_maxiter2", small, init, max_iter=2)
    lloyd_case(args.out, "lloyd_d5_f32", small.astype(np.float32), init.astype(np.float32))

    # Uniform data creep: the tolerance rule (not unchanged labels) stops Lloyd here, at 17 iterations where
    # tol = 0 takes 21, tol/1.5 takes 20 and tol·D takes 15, so the tolerance's scaling is pinned down.
    creep = np.random.RandomState(9).uniform(size=(400, 2))
    lloyd_case(args.out, "lloyd_uniform_tol1e-3", creep, creep[:8].copy(), tol=1e-3)

    far = init.copy()
    far[2] = 1000.0  # no row is nearest to centre 2 in the first iteration
    lloyd_case(args.out, "empty_lloyd_d5", small, far)

    # Duplicated rows: 10 copies each of 5 distinct points plus 40 spread rows; two starting centres coincide.
    base = np.random.RandomState(6).normal(size=(5, 3)) * 10
    dup = np.concatenate([np.repeat(base, 10, axis=0), np.random.RandomState(7).normal(size=(40, 3))])
    dup_init = np.stack([dup[0], dup[0], dup[10], dup[20], dup[50]])
    lloyd_case(args.out, "empty_lloyd_duplicates", dup, dup_init)

    # --- minibatch ---
    minibatch_exact_case(args.out, "minibatch_exact_d5", small, init, chunk=48)
    best16 = json.load(open(os.path.join(args.out, "quality_blobs_d16", "params.json")))["best_inertia"]
    minibatch_quality_case(args.out, "minibatch_quality_blobs_d16", blobs16.astype(np.float64), 10, 100, best16)

    # --- pca: anisotropic data (decaying column scales, then a random rotation) ---
    rng = np.random.RandomState(8)
    raw = rng.normal(size=(80, 12)) * np.geomspace(10.0, 0.1, 12)
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    pca_case(args.out, "pca_d12", raw @ rotation + 3.0, 4)

    cases = sorted(d for d in os.listdir(args.out) if os.path.isdir(os.path.join(args.out, d)))
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"cases": cases, "sklearn": sklearn.__version__, "numpy": np.__version__}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
