"""The ``gradkit`` argument parser and ``main``: every failure becomes one line on stderr."""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import traceback
import warnings

from gradkit.data.tabular import TableError

from gradkit.safety import for_terminal

from .errors import EXIT_INTERRUPTED, CLIError

__all__ = ["main", "build_parser", "check_paths", "MAX_SEED", "MAX_HIDDEN", "MAX_CHECK_SIZE",
           "EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "MAX_EPOCHS", "MAX_RESTARTS", "MAX_COUNT"]

EPILOG = """examples:
  gradkit fit                                   # logistic regression on breast_cancer
  gradkit fit wine --model mlp --hidden 32 --optimizer adam --epochs 100
  gradkit fit data.csv --target price --dropna --save model.npz
  gradkit fit big.csv --target label --dask     # on a local Dask cluster for the run
  gradkit fit big.csv --dask tcp://10.0.0.5:8786  # on a running Dask scheduler
  gradkit race rosenbrock --optimizers sgd,momentum,adam,lbfgs,newton
  gradkit explain model.npz data.csv --csv importances.csv
  gradkit check mycode.py:loss --shape 3,4 --shape 4

Each command writes one self-contained HTML report (open it in any browser, offline).
Run 'gradkit COMMAND --help' for the options of a command."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (a CLIError), not usage text and a traceback."""

    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help').")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _count(maximum):
    """A positive integer of at most ``maximum``: counts that set how long a command runs
    or how much it holds, so that a typo (``--steps 10000000000``) is an error, not a run
    that never ends."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected an integer from 1 to {maximum:,}, got "
                                             f"{text!r}")
        return value
    return parse


#: ``--seed`` is handed to NumPy's generators and to scikit-learn's ``random_state``, which
#: takes 0 <= seed < 2**32.
MAX_SEED = 2 ** 32 - 1
#: The widest hidden layer ``--hidden`` takes (a wider one would not fit in memory with any
#: real number of features; the Python API has no such limit).
MAX_HIDDEN = 100_000
#: The most entries one ``check --shape`` argument may have.
MAX_CHECK_SIZE = 10 ** 7
#: The largest ``--blocksize`` (one partition is loaded whole by a worker).
MAX_BLOCKSIZE = 10 ** 12
#: The most ``fit --epochs`` (epochs or iterations) and ``race --steps``.
MAX_EPOCHS = 10 ** 6
#: The most ``race --restarts`` (each one a whole run of every full-batch method).
MAX_RESTARTS = 1000
#: The most ``--max-categories`` and ``explain --rows``.
MAX_COUNT = 10 ** 7


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED} (2**32 - 1), "
                                         f"got {text!r}")
    return value


def _number(low=None, high=None, low_open=False, high_open=True):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):  # inf and nan pass every comparison test below or none
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        ok = value == value and (low is None or (value > low if low_open else value >= low)) \
            and (high is None or (value < high if high_open else value <= high))
        if not ok:
            where = (f"{'>' if low_open else '>='} {low:g}" if low is not None else "") + \
                (" and " if low is not None and high is not None else "") + \
                (f"{'<' if high_open else '<='} {high:g}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"expected a number {where}, got {text!r}")
        return value
    return parse


def _batch_size(text):
    named = {"full": None, "stochastic": 1, "auto": "auto"}
    if text in named:
        return named[text]
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected full, stochastic, auto or a positive "
                                         f"integer, got {text!r}") from None


def _bytes(text):
    from dask.utils import parse_bytes
    try:
        value = parse_bytes(text)
    except (ValueError, TypeError, OverflowError):  # OverflowError: 1e400 bytes
        value = 0
    if not 1 <= value <= MAX_BLOCKSIZE:
        raise argparse.ArgumentTypeError(f"expected a size such as 64MB or 1000000 (at most "
                                         f"1TB), got {text!r}")
    return value


def _sizes(text):
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas "
                                         f"such as 64,32, got {text!r}")
    if max(sizes) > MAX_HIDDEN:
        raise argparse.ArgumentTypeError(f"expected layer sizes of at most {MAX_HIDDEN} units, "
                                         f"got {text!r}")
    return sizes


def _shape(text):
    if text.strip() in ("", "()", "scalar"):
        return ()
    try:
        shape = tuple(int(s) for s in text.strip("()").replace(" ", "").split(",") if s)
    except ValueError:
        shape = (-1,)
    if min(shape, default=0) < 1:
        raise argparse.ArgumentTypeError(f"expected a shape such as 3,4 (or 'scalar'), "
                                         f"got {text!r}")
    if math.prod(shape) > MAX_CHECK_SIZE:
        raise argparse.ArgumentTypeError(f"expected a shape of at most {MAX_CHECK_SIZE} entries, "
                                         f"got {text!r}")
    return shape


def _data_options(p):
    p.add_argument("--target", metavar="COL", help="the target column (default: the last "
                   "column; 'target' for bundled data)")
    p.add_argument("--drop", metavar="COL", action="append", default=[],
                   help="leave this column out (repeatable)")
    p.add_argument("--dropna", action="store_true",
                   help="drop rows with missing or infinite cells")
    p.add_argument("--impute", choices=("mean", "median"),
                   help="fill missing or infinite cells (text: the most frequent value)")
    p.add_argument("--max-categories", type=_count(MAX_COUNT), default=50, metavar="N",
                   help="the most distinct values a text column may have (default 50)")


def build_parser() -> argparse.ArgumentParser:
    """The ``gradkit`` parser with its four commands (``fit``, ``race``, ``explain``, ``check``).

    Each command's namespace carries ``run``, the function that runs it (``args.run(args)``).

    Returns:
        argparse.ArgumentParser: the parser.

    Examples:
        >>> args = build_parser().parse_args(["race", "beale", "--steps", "10"])
        >>> args.command, args.problem, args.steps, args.run.__module__
        ('race', 'beale', 10, 'gradkit.cli.race')
    """
    from gradkit.models import FULL_BATCH_METHODS, TRANSFORMS

    from . import check, explain, fit, race
    import gradkit

    optimizers = tuple(TRANSFORMS) + tuple(FULL_BATCH_METHODS)
    parser = _Parser(prog="gradkit", description="gradkit: see what the gradients do. Fit "
                     "models, race optimizers, explain predictions and check gradients, "
                     "each with an HTML report.", epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradkit {gradkit.__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback when something fails")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")

    p = sub.add_parser("fit", parents=[common], help="fit a model and write a report",
                       description="Fit a gradkit model on a CSV / Parquet file or a bundled "
                       "data set, score it on held-out rows and write an HTML report of what "
                       "the gradients did.", epilog=fit.EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="?", default="breast_cancer",
                   help="a CSV / Parquet file or a bundled data set: breast_cancer (default), "
                   "digits, wine, iris, diabetes")
    _data_options(p)
    p.add_argument("--task", choices=("classification", "regression"),
                   help="default: classification for text or few integer targets")
    p.add_argument("--model", choices=("linear", "logistic", "svm", "mlp"),
                   help="default: logistic for classification, linear for regression")
    p.add_argument("--optimizer", choices=optimizers, metavar="NAME",
                   help=f"one of {', '.join(optimizers)} (default: the model's, lbfgs for "
                   "linear models and adam for mlp)")
    p.add_argument("--lr", type=_number(0, low_open=True, high=None), metavar="RATE",
                   help="learning rate of a stochastic optimizer")
    p.add_argument("--batch-size", type=_batch_size, default=argparse.SUPPRESS, metavar="N",
                   help="full, stochastic (1), auto or a number of rows")
    p.add_argument("--epochs", type=_count(MAX_EPOCHS), metavar="N",
                   help="epochs (stochastic optimizers) or iterations (full-batch methods)")
    p.add_argument("--hidden", type=_sizes, metavar="SIZES",
                   help="hidden layer sizes of --model mlp, such as 64,32")
    p.add_argument("--penalty", choices=("l2", "l1", "elasticnet", "none"))
    p.add_argument("--alpha", type=_number(0), metavar="A", help="penalty strength")
    p.add_argument("--clip-norm", type=_number(0, low_open=True), metavar="C",
                   help="clip each gradient to this global norm")
    p.add_argument("--test-size", type=_number(0, 1, low_open=True), default=0.25,
                   metavar="F", help="fraction of rows held out for scoring (default 0.25)")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument("--report", default="gradkit-report.html", metavar="PATH",
                   help="where to write the HTML report (default gradkit-report.html)")
    p.add_argument("--save", metavar="PATH", help="save the fitted model (.npz) and its "
                   "preprocessing (PATH.preprocess.json)")
    p.add_argument("--dask", nargs="?", const="local", metavar="ADDRESS",
                   help="read, encode and fit the CSV with Dask: alone, on a local cluster "
                   "started for the run (2 worker processes); with a scheduler ADDRESS such "
                   "as tcp://10.0.0.5:8786, on that cluster. Full-batch optimizers and "
                   "mini-batches drawn from the blocks; put it after the data file "
                   "(example: gradkit fit big.csv --dask)")
    p.add_argument("--blocksize", type=_bytes, metavar="SIZE",
                   help="bytes of CSV per Dask partition with --dask, such as 64MB (default)")
    p.set_defaults(run=fit.run)

    p = sub.add_parser("race", parents=[common], help="race optimizers on a function or data",
                       description="Run several optimizers from the same start on a 2-D test "
                       "function (or a model's loss on a data set) and draw their paths on the "
                       "loss landscape, with the loss against evaluations and time.",
                       epilog=race.EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem", nargs="?", default="rosenbrock", metavar="FUNCTION|DATA",
                   help=f"a test function ({', '.join(race.FUNCTION_NAMES)}; default "
                   "rosenbrock) or a data set (bundled name or CSV file)")
    p.add_argument("--optimizers", type=race.parse_optimizers, default=race.DEFAULT_OPTIMIZERS,
                   metavar="LIST", help=f"comma-separated, from {', '.join(race.RACERS)} "
                   f"(default {','.join(race.DEFAULT_OPTIMIZERS)})")
    p.add_argument("--steps", type=_count(MAX_EPOCHS), default=None, metavar="N",
                   help="steps of each optimizer (default 300 on a function, 100 on data)")
    p.add_argument("--lr", type=_number(0, low_open=True), metavar="RATE",
                   help="one learning rate for every first-order optimizer (default: tuned "
                   "per function)")
    p.add_argument("--start", type=_sizes_or_floats, metavar="X,Y",
                   help="the starting point on a test function")
    p.add_argument("--restarts", type=_count(MAX_RESTARTS), default=0, metavar="K",
                   help="full-batch methods also run from K random starts around the start; "
                   "the best run is shown (default 0)")
    _data_options(p)
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument("--report", default="gradkit-race.html", metavar="PATH",
                   help="where to write the HTML report (default gradkit-race.html)")
    p.set_defaults(run=race.run)

    p = sub.add_parser("explain", parents=[common], help="attribute a saved model's predictions",
                       description="Attribute the predictions of a model saved with 'gradkit "
                       "fit --save' to the features of the rows of DATA; write a report and a "
                       "CSV of per-feature importances.", epilog=explain.EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="a model saved with gradkit fit --save")
    p.add_argument("data", help="a CSV / Parquet file or bundled data set with the same columns")
    p.add_argument("--method", default="integrated_gradients",
                   choices=("integrated_gradients", "gradient_x_input", "saliency", "smoothgrad"))
    p.add_argument("--rows", type=_count(MAX_COUNT), default=200, metavar="N",
                   help="explain at most N rows (default 200)")
    p.add_argument("--dropna", action="store_true",
                   help="drop rows with missing or infinite cells")
    p.add_argument("--impute", choices=("mean",),
                   help="fill missing cells with the training means")
    p.add_argument("--csv", default="gradkit-importances.csv", metavar="PATH",
                   help="where to write the importances (default gradkit-importances.csv)")
    p.add_argument("--report", default="gradkit-explain.html", metavar="PATH",
                   help="where to write the HTML report (default gradkit-explain.html)")
    p.set_defaults(run=explain.run)

    p = sub.add_parser("check", parents=[common], help="check a function's gradients",
                       description="Check the gradients gradkit computes for your NumPy "
                       "function against central finite differences, one verdict per "
                       "argument. The file is imported, so its top-level code runs.",
                       epilog=check.EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="FILE.py:FUNCTION")
    p.add_argument("--shape", type=_shape, action="append", metavar="SHAPE",
                   help="the shape of one argument, such as 3,4 or scalar; repeat once per "
                   "argument (default: one argument of shape 3)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="random seed for the inputs (default 0)")
    p.add_argument("--rtol", type=_number(0, low_open=True), default=1e-4, metavar="R",
                   help="relative tolerance (default 1e-4)")
    p.set_defaults(run=check.run)
    return parser


def _sizes_or_floats(text):
    try:
        values = tuple(float(s) for s in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected two numbers such as -1.5,2 (finite), got "
                                         f"{text!r}")
    return values


#: The options that name a file a command writes, and those that name a file it reads.
_OUTPUTS = {"fit": ("report", "save"), "race": ("report",), "explain": ("csv", "report")}
_INPUTS = {"fit": ("data",), "race": ("problem",), "explain": ("model", "data")}


def check_paths(args):
    """Check every output path before any work: not empty, in an existing writable folder,
    not a folder itself, and no two outputs (the model's ``.preprocess.json`` included) nor
    an output and an input the same file, so nothing overwrites what the user had.

    Args:
        args: the parsed ``argparse.Namespace`` of a command.

    Raises:
        CLIError: naming the option.

    Examples:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "out.html")
        >>> args = build_parser().parse_args(["fit", "iris", "--report", path, "--save", path])
        >>> try:
        ...     check_paths(args)
        ... except CLIError as exc:
        ...     print(str(exc).split(" name ")[0])
        --report and --save
    """
    from .fit import SIDECAR

    outputs = []
    for name in _OUTPUTS.get(args.command, ()):
        path = getattr(args, name, None)
        if path is None:
            continue
        option = f"--{name}"
        if not str(path).strip():
            example = {"save": "model.npz", "csv": "importances.csv"}.get(name, "report.html")
            raise CLIError(f"{option} is empty; give a file name such as {example}.")
        full = os.path.realpath(path)
        folder = os.path.dirname(full)
        if os.path.isdir(full):
            raise CLIError(f"{option} {path!r} is a folder; give a file name inside it.")
        if not os.path.isdir(folder):
            raise CLIError(f"{option} {path!r}: the folder {folder!r} does not exist.")
        if not os.access(folder, os.W_OK):
            raise CLIError(f"{option} {path!r}: the folder {folder!r} is not writable.")
        outputs.append((option, full))
        if name == "save":
            outputs.append((f"{option} (its {SIDECAR} record)", full + SIDECAR))
    for name in _INPUTS.get(args.command, ()):
        path = getattr(args, name, None)
        if path is not None and os.path.isfile(path):
            outputs.append((f"the input {path!r}", os.path.realpath(path)))
    seen = {}
    for option, full in outputs:
        if full in seen:
            raise CLIError(f"{seen[full]} and {option} name the same file {full!r}; one would "
                           "overwrite the other. Give different paths.")
        seen[full] = option


def _one_line(message) -> str:
    """A message as one line a terminal shows as written (names from the data may hold
    escape sequences: gradkit.safety)."""
    return for_terminal(re.sub(r"\s+", " ", str(message)).strip())


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"gradkit: warning: {_one_line(message)}", file=sys.stderr)


#: The status when a reader of the output goes away (``gradkit fit | head -1``): 128 +
#: SIGPIPE, what a shell reports for a Unix tool killed by the signal, so ``set -o pipefail``
#: sees it as it would for ``yes | head -1``.
EXIT_BROKEN_PIPE = 128 + 13


def _output_closed() -> int:
    """The reader of stdout (or stderr) is gone: point both at the null device, so neither
    this nor the interpreter's flush at exit writes to the closed pipe (Python's recipe, the
    ``signal`` module's "Note on SIGPIPE"), and exit quietly as a Unix tool does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, ValueError, OSError):  # not a real file (a test's capture)
            pass
    os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv=None) -> int:
    """Run ``gradkit`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    0 on success, 1 when ``check`` finds a wrong gradient or on an unexpected error, 2 for
    bad input (one line on stderr), 130 when interrupted (Ctrl-C), 141 when the reader of
    the output went away (:data:`EXIT_BROKEN_PIPE`: ``gradkit fit | head -1`` ends quietly).
    Errors are one line on stderr (``--debug``: the full traceback).

    Args:
        argv: the arguments, a list of strings (None: ``sys.argv[1:]``).

    Returns:
        int: the exit status.

    Examples:
        >>> main(["--version"])
        gradkit ...
        0
        >>> main(["fit", "iris", "--report", ""])   # the message goes to stderr
        2
    """

    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = "--debug" in argv
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            if args.command is None:
                parser.print_help()
                return 2
            check_paths(args)
            status = int(args.run(args) or 0)
            sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
            return status
        except SystemExit as exc:  # --help and --version
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                return _output_closed()
            return exc.code if isinstance(exc.code, int) else 0
        except BrokenPipeError:  # before OSError: not a file the user named
            return _output_closed()
        except (CLIError, TableError) as exc:  # bad input: the message says what to do
            if debug:
                traceback.print_exc()
            print(f"gradkit: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        except OSError as exc:  # a file the command reads or writes (paths are user input)
            if debug:
                traceback.print_exc()
            where = f" {exc.filename!r}" if exc.filename else ""
            print(f"gradkit: error: cannot use the file{where}: "
                  f"{_one_line(exc.strerror or exc)}.", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("gradkit: interrupted.", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as exc:  # noqa: BLE001 (never a traceback unless asked for)
            if debug:
                traceback.print_exc()
            detail = _one_line(exc)[:300] or "(no message)"
            print(f"gradkit: error: unexpected {type(exc).__name__}: {detail} (re-run with "
                  "--debug for the traceback)", file=sys.stderr)
            return 1
