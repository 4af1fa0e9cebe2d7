"""W2 on GPU (float32): gradkit on CuPy arrays against the same step hand-written in CuPy and torch CUDA.

Run: ``python benchmarks/bench_gpu.py`` on a machine with an NVIDIA GPU and CuPy
(``pip install cupy-cuda12x``); elsewhere it prints ``skipped: no GPU`` and exits. The
workload is benchmarks/bench_nn.py's W2: one SGD step of a 784-256-256-10 ReLU MLP with
softmax cross-entropy, batch 128. Each timing synchronizes the device after the step, and
the first row (hand-written CuPy) is the floor the ratios refer to. A system that fails on
the GPU is reported with its error instead of a time: that is a missing GPU path to fix.
"""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from harness import median_time, report  # noqa: E402

from gradkit.backend import gpu_available  # noqa: E402

BATCH_SIZES = (128, 1024)


def main():
    if not gpu_available():
        print("W2 on GPU: skipped: no GPU (CuPy with a CUDA device is needed; "
              "pip install cupy-cuda12x on a GPU machine)")
        return
    import cupy as cp

    import bench_nn
    import gradkit as gk

    model, params_np, state, _, _ = bench_nn.setup()
    for batch in BATCH_SIZES:
        rng = np.random.default_rng(1)
        X = cp.asarray(rng.standard_normal((batch, 784)).astype(np.float32))
        y = cp.asarray(rng.integers(0, 10, batch))
        params = gk.tree.tree_map(cp.asarray, params_np)

        def sync(fn):
            def run():
                out = fn()
                cp.cuda.Device().synchronize()
                return out
            return run

        def cupy_step():
            return bench_nn.numpy_step(params, X, y, xp=cp)

        rows = [("cupy (hand-written)", median_time(sync(cupy_step), 1.0))]
        failures = []

        try:
            gk_step = bench_nn.gradkit_step(model, params, state, X, y)
            new, loss = gk_step()
            ref, ref_loss = cupy_step()
            assert isinstance(new["00_linear"]["W"], cp.ndarray), "gradkit left the GPU"
            assert new["00_linear"]["W"].dtype == cp.float32, "gradkit left float32"
            assert cp.allclose(new["00_linear"]["W"], ref["00_linear"]["W"], atol=1e-5)
            rows.append(("gradkit on CuPy", median_time(sync(gk_step), 1.0)))
        except Exception as exc:  # report, do not hide: this is a GPU path to fix
            failures.append(f"gradkit on CuPy: FAILED ({type(exc).__name__}: {exc})")
        try:
            import torch
            if not torch.cuda.is_available():
                raise RuntimeError("torch has no CUDA")
            dev = torch.device("cuda")
            tp = [torch.tensor(params_np[k][m], device=dev, requires_grad=True)
                  for k in sorted(params_np) for m in ("W", "b")]
            tX = torch.as_tensor(cp.asnumpy(X), device=dev)
            ty = torch.as_tensor(cp.asnumpy(y), device=dev)

            def torch_step():
                out = bench_nn.torch_step(torch, tp, tX, ty)
                torch.cuda.synchronize()
                return out
            rows.append(("torch CUDA eager", median_time(torch_step, 1.0)))
        except Exception as exc:
            failures.append(f"torch CUDA: skipped ({type(exc).__name__}: {exc})")
        report(f"W2 on GPU: SGD step, 784-256-256-10 ReLU MLP, batch {batch} (float32, "
               f"{cp.cuda.runtime.getDeviceProperties(0)['name'].decode()})", rows)
        for line in failures:
            print("  " + line)


if __name__ == "__main__":
    main()
