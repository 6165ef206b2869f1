"""scikit-learn's KMeans on overlapping Gaussian blobs drawn as the C# bench draws them, timed over seeds."""

import statistics
import time

KMEANS_SPREAD = 0.15  # blob centres ~ N(0, 0.15²) per feature around unit-variance noise: overlapping clusters


def kmeans_data(torch, rows, dims, k):
    """k overlapping Gaussian blobs, drawn with torch from seed 0 exactly as the C# KMeansBenchmark draws them."""
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(k, dims, generator=g) * KMEANS_SPREAD
    return centres[torch.arange(rows) % k] + torch.randn(rows, dims, generator=g)


def kmeans(torch, rows, dims, k, repeats):
    from sklearn.cluster import KMeans
    x = kmeans_data(torch, rows, dims, k).numpy()
    seconds, iterations = [], []
    for seed in range(repeats):
        start = time.perf_counter()
        fit = KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd",
                     random_state=seed).fit(x)
        seconds.append(time.perf_counter() - start)
        iterations.append(int(fit.n_iter_))
    s, it = statistics.median(seconds), statistics.median(iterations)
    return s, 1e3 * s / it, {"rows": rows, "dims": dims, "k": k, "repeats": repeats, "iterations_median": it,
                             "iterations": iterations, "data_sum": float(x.astype("float64").sum())}
