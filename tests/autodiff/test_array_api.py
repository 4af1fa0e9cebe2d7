"""scipy's array-API mode: with SCIPY_ARRAY_API=1 set before scipy is imported, scipy
functions written against the array API standard differentiate unchanged, because a traced
value's ``__array_namespace__`` is NumPy's with ``asarray`` keeping tracers
(``gradkit/autodiff/namespace.py``). The variable is read when scipy is imported, so each
check runs in a fresh interpreter."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gradkit as gk
from gradkit.autodiff.namespace import namespace

SCRIPT = textwrap.dedent("""
    import numpy as np, scipy.optimize, scipy.special, gradkit as gk
    x = np.array([0.5, -1.0, 2.0])
    lse = scipy.special.logsumexp.__wrapped__  # scipy's own function, not gradkit's wrapper
    sm = scipy.special.softmax.__wrapped__
    checks = {
        "logsumexp": (lambda x: lse(x), np.exp(x) / np.exp(x).sum()),
        "softmax": (lambda x: np.sum(sm(x) * np.arange(3.0)),
                    None),
        "rosen": (scipy.optimize.rosen, scipy.optimize.rosen_der(x)),
    }
    p = np.exp(x) / np.exp(x).sum()
    checks["softmax"] = (checks["softmax"][0], p * (np.arange(3.0) - p @ np.arange(3.0)))
    for name, (f, want) in checks.items():
        got = gk.grad(f)(x)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12), (name, got, want)
    print("ok")
""")


@pytest.mark.parametrize("mode", ["1"])
def test_scipy_array_api_functions_differentiate_unchanged(mode):
    env = dict(os.environ, SCIPY_ARRAY_API=mode)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_namespace_is_numpys_with_asarray_keeping_tracers():
    assert namespace.exp is np.exp and namespace.sum is np.sum

    def f(x):
        assert x.__array_namespace__() is namespace
        same = namespace.asarray(x)
        assert same is x and namespace.asarray(x, copy=True) is not x
        return np.sum(namespace.asarray(x, dtype=np.float32) ** 2)

    g = gk.grad(f)(np.array([1.0, 2.0]))
    assert np.allclose(g, [2.0, 4.0])
    assert namespace.asarray([1.0, 2.0]).dtype == np.float64  # plain input: NumPy's asarray
