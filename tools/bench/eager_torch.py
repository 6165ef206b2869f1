"""torch for a timing twin, on the thread count `evlf bench` gives it, or one line on stderr saying why not."""

import contextlib
import sys

MISSING_TORCH = 3  # the exit status the C# bench reads as "this interpreter has no torch" (PythonReference.cs)


def import_torch(script, threads):
    """torch with `threads` intra-op threads; None after a line on stderr when this interpreter cannot import it."""
    try:
        import torch
    except ImportError as e:
        print(f"{script}: {sys.executable} cannot import torch ({e}); install PyTorch for this interpreter "
              "(Debian: apt-get install python3-torch) or run evlf bench --no-python", file=sys.stderr)
        return None
    torch.set_num_threads(threads)
    return torch


def pool_limits(threads):
    """The same limit on the OpenMP and BLAS pools threadpoolctl finds (OpenBLAS, scikit-learn's), where it is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)
