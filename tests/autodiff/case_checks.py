"""What the case-table tests (test_mutation.py, test_real_code.py) share: closeness in the
max norm, and a fixed random cotangent for an output."""
import numpy as np


def assert_close(got, want, rtol, atol, what):
    """Max-norm closeness relative to the larger of the two (as ``check_grads`` measures)."""
    g = np.asarray(got, dtype=np.float64)
    w = np.asarray(want, dtype=np.float64)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, expected {w.shape}"
    err = np.max(np.abs(g - w), initial=0.0)
    scale = max(np.max(np.abs(g), initial=0.0), np.max(np.abs(w), initial=0.0))
    assert err <= atol + rtol * scale, (f"{what}: max error {err:.3g} (scale {scale:.3g})\n"
                                        f"  got:      {g.ravel()[:8]}\n  expected: {w.ravel()[:8]}")


def cotangent_like(out):
    """A fixed random cotangent of ``out``'s shape and dtype (1.0 for a scalar)."""
    out = np.asarray(out)
    if out.ndim == 0:
        return np.ones((), dtype=out.dtype)
    return np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)


def exception_chain(exc):
    """An exception, then what it was raised from or during, and so on (each once)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def chain_text(exc):
    """The messages of an exception and of everything it was raised from or during."""
    return "\n".join(str(e) for e in exception_chain(exc))
