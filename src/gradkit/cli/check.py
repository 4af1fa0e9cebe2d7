"""``gradkit check``: a user's NumPy function's gradients against central finite differences."""
from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np

from gradkit.safety import for_terminal

from .errors import CLIError

__all__ = ["run", "load_function", "check_argument", "EXAMPLES"]

#: The examples ``gradkit check --help`` ends with.
EXAMPLES = """examples:
  gradkit check mycode.py:loss --shape 3,4            # one argument, a 3x4 array
  gradkit check mycode.py:f --shape 5 --shape scalar  # two arguments: a vector and a number

The function is called with random float64 arrays of those shapes; a non-scalar output is
reduced to a scalar with a random weight per entry, so every output entry is checked."""

_ELEMENTWISE_LIMIT = 64  # up to this many entries every partial derivative is checked


def load_function(target):
    """The function named by ``FILE.py:FUNCTION`` (the file is imported: its code runs).

    Args:
        target: ``"FILE.py:FUNCTION"``; the file's folder is on ``sys.path`` while it imports.

    Returns:
        The function.

    Raises:
        CLIError: a malformed target, a missing file, an import that fails, or no such
            function in the file (listing the functions it has).

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "mycode.py")
        >>> with open(path, "w") as f:
        ...     _ = f.write("def loss(x):\\n    return (x ** 2).sum()\\n")
        >>> load_function(path + ":loss")(np.array([1.0, 2.0])).item()
        5.0
        >>> try:
        ...     load_function(path + ":los")
        ... except CLIError as exc:
        ...     print(str(exc).split("; ")[1])
        its functions are: loss.
    """
    path, sep, name = str(target).rpartition(":")
    if not sep or not path or not name:
        raise CLIError(f"expected FILE.py:FUNCTION, such as mycode.py:loss; got {target!r}.")
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path!r}.")
    module_name = f"_gradkit_check_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CLIError(f"{path!r} cannot be imported as Python; give a .py file.")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:  # the file is a script: its exit status is not ours
        raise CLIError(f"importing {path!r} called sys.exit({exc.code!r}); put the script's "
                       "top-level code under 'if __name__ == \"__main__\":' so that "
                       "importing only defines the function.") from None
    except Exception as exc:  # noqa: BLE001 (the user's code: report, never a traceback)
        raise CLIError(f"importing {path!r} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fun = getattr(module, name, None)
    if not callable(fun):
        found = sorted(k for k, v in vars(module).items()
                       if callable(v) and getattr(v, "__module__", None) == module_name)
        raise CLIError(f"{path!r} has no function {name!r}; its functions are: "
                       f"{', '.join(found) or '(none)'}.")
    return fun


def _partials(f, args, i, rng, eps):
    """(gradkit's derivative, finite differences) of scalar ``f`` in argument ``i``: every
    partial for small arguments, else along five random directions."""
    import gradkit as gk

    g = np.asarray(gk.grad(f, argnums=i)(*args), dtype=float)
    x = args[i]

    def shifted(delta):
        moved = list(args)
        moved[i] = x + delta
        return float(f(*moved))

    if x.size <= _ELEMENTWISE_LIMIT:
        fd = np.zeros(x.shape)
        for j in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[j] = eps
            fd[j] = (shifted(e) - shifted(-e)) / (2 * eps)
        return g.reshape(x.shape), fd
    directions = rng.normal(size=(5,) + x.shape)
    analytic = np.array([np.sum(g * t) for t in directions])
    numeric = np.array([(shifted(eps * t) - shifted(-eps * t)) / (2 * eps) for t in directions])
    return analytic, numeric


def check_argument(f, args, i, rtol=1e-4, atol=1e-6, seed=0, eps=1e-6):
    """Check the gradient of scalar ``f`` in argument ``i``; returns ``(ok, verdict)``.

    The gradient gradkit computes is compared with central differences
    ``(f(x + eps e) - f(x - eps e)) / (2 eps)``: every partial derivative for an argument of
    up to 64 entries, else along five random directions ``e``. It agrees when
    ``|gradkit - numeric| <= atol + rtol * scale`` (``scale`` the size of the gradient).

    Args:
        f: a scalar function of ``args``, written with NumPy.
        args: the arguments to call it with, a list.
        i: the position of the argument to check.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        seed: seeds the random directions.
        eps: the finite-difference step.

    Returns:
        ``(ok, verdict)``: whether they agree, and a line saying so with the largest error.

    Examples:
        >>> ok, verdict = check_argument(lambda x: np.sum(np.sin(x)), [np.ones(3)], 0)
        >>> ok, verdict.split(":")[0]
        (True, 'OK')
    """
    from gradkit import NoGradientRuleError, TracerConversionError

    rng = np.random.default_rng(seed)
    try:
        with np.errstate(all="ignore"):
            got, want = _partials(f, args, i, rng, eps)
    except (TracerConversionError, NoGradientRuleError) as exc:
        return False, f"CANNOT DIFFERENTIATE: {' '.join(str(exc).split())}"
    except CLIError:
        raise
    except Exception as exc:  # noqa: BLE001 (the user's code)
        return False, f"ERROR while differentiating: {type(exc).__name__}: {exc}"
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return False, "NOT FINITE: the gradient or the finite differences hold NaN or inf."
    err = np.abs(got - want)
    scale = max(float(np.max(np.abs(got), initial=0)), float(np.max(np.abs(want), initial=0)))
    worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
    max_err = float(err[worst]) if err.size else 0.0
    if max_err <= atol + rtol * scale:
        return True, (f"OK: max error {max_err:.2g} (gradient scale {scale:.3g}) "
                      f"{'over every entry' if got.shape == args[i].shape else 'along 5 random directions'}")
    where = f"at index {tuple(int(k) for k in worst)}" if got.shape == args[i].shape else \
        f"along random direction {int(worst[0])}"
    return False, (f"MISMATCH: {where} gradkit gives {float(got[worst]):.6g}, finite "
                   f"differences {float(want[worst]):.6g} (max error {max_err:.2g}, "
                   f"tolerance {atol + rtol * scale:.2g})")


def _no_exit(fun, target):
    """``fun``, with a ``sys.exit`` inside it reported as a failure of the user's function
    (gradkit's exit status stays gradkit's)."""
    def call(*args):
        try:
            return fun(*args)
        except SystemExit as exc:
            raise CLIError(f"{target} called sys.exit({exc.code!r}); gradkit check needs a "
                           "function that returns a value.") from None
    return call


def run(args) -> int:
    """Run ``gradkit check`` with parsed ``args``; 0 when every gradient agrees, else 1.

    It prints one verdict per argument of the function, called with random float64 arrays
    of the ``--shape`` s.

    Args:
        args: the ``argparse.Namespace`` of ``gradkit check`` (see
            :func:`gradkit.cli.main.build_parser`).

    Returns:
        int: the exit status.

    Raises:
        CLIError: when the function cannot be loaded or called with those shapes.

    Examples:
        >>> import os, tempfile
        >>> from gradkit.cli.main import build_parser
        >>> path = os.path.join(tempfile.mkdtemp(), "mycode.py")
        >>> with open(path, "w") as f:
        ...     _ = f.write("import numpy as np\\ndef f(x):\\n    return np.sin(x).sum()\\n")
        >>> status = run(build_parser().parse_args(["check", path + ":f", "--shape", "2"]))
        gradkit check ...:f: 1 argument(s), output shape ()
          argument 0 (shape (2,)): OK: ...
          verdict: every gradient agrees with finite differences.
        >>> status
        0
    """

    fun = _no_exit(load_function(args.target), args.target)
    shapes = args.shape or [(3,)]
    rng = np.random.default_rng(args.seed)
    inputs = [rng.normal(size=shape) if shape else np.float64(rng.normal()) for shape in shapes]
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fun(*inputs), dtype=float)
    except CLIError:
        raise
    except Exception as exc:  # noqa: BLE001 (the user's code)
        raise CLIError(f"calling {args.target} with arguments of shape "
                       f"{', '.join(str(s) for s in shapes)} failed: {type(exc).__name__}: "
                       f"{exc}; give one --shape per argument.") from None
    weights = rng.normal(size=out.shape)

    def scalar(*a):
        value = fun(*a)
        return value if out.ndim == 0 else np.sum(value * weights)

    print(f"gradkit check {for_terminal(args.target)}: {len(inputs)} argument(s), output "
          f"shape {out.shape}"
          + ("" if out.ndim == 0 else " (reduced with random weights)"))
    all_ok = True
    for i, x in enumerate(inputs):
        ok, verdict = check_argument(scalar, [np.asarray(v, float) for v in inputs], i,
                                     rtol=args.rtol, seed=args.seed)
        all_ok &= ok
        print(for_terminal(f"  argument {i} (shape {np.shape(x)}): {verdict}"))
    print("  verdict: " + ("every gradient agrees with finite differences." if all_ok else
                           "some gradients are wrong or missing (see above)."))
    return 0 if all_ok else 1
