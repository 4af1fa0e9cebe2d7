"""Options fuzzed with hostile values: every outcome is a success or one line naming what was
wrong (status 2), never an "unexpected" error or a traceback."""
import random
import signal

import pytest

VALUES = ["", " ", "0", "-1", "1", "2", "0.5", "-0.0", "1e400", "-1e400", "nan", "inf", "-inf",
          "1e-320", str(2 ** 64), str(10 ** 10), "abc", "1,2", "1,,2", ",", "0,0", "-1,5", "1e9",
          "3.7",
          "\x1b[31m", "full", "stochastic", "auto", "mean", "../x", "/", "x" * 300]

OPTIONS = {
    "fit": ["--target", "--drop", "--impute", "--max-categories", "--task", "--model",
            "--optimizer", "--lr", "--batch-size", "--epochs", "--hidden", "--penalty",
            "--alpha", "--clip-norm", "--test-size", "--seed", "--report", "--save",
            "--blocksize"],
    "race": ["--optimizers", "--steps", "--lr", "--start", "--restarts", "--seed", "--report"],
    "explain": ["--method", "--rows", "--impute", "--csv", "--report"],
    "check": ["--shape", "--seed", "--rtol"],
}
BASE = {"fit": ["fit", "iris", "--epochs", "3"],
        "race": ["race", "--steps", "3", "--optimizers", "sgd,adam"],
        "explain": ["explain", "m.npz", "iris", "--rows", "5"], "check": ["check", "f.py:f"]}


def _cases(n, seed=0):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        command = rng.choice(sorted(OPTIONS))
        argv = list(BASE[command])
        for _ in range(rng.randint(1, 2)):
            argv += [rng.choice(OPTIONS[command]), rng.choice(VALUES)]
        cases.append(argv)
    return cases


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A model saved by ``gradkit fit`` (for explain) and a function file (for check)."""
    import os

    from gradkit.cli import main

    folder = tmp_path_factory.mktemp("saved")
    here = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["fit", "iris", "--save", "m.npz", "--report", "r.html"]) == 0
    finally:
        os.chdir(here)
    (folder / "f.py").write_text("import numpy as np\ndef f(x):\n    return np.sum(x ** 2)\n")
    return folder


@pytest.fixture
def model(saved, tmp_path):
    import shutil

    for name in ("m.npz", "m.npz.preprocess.json", "f.py"):
        shutil.copy(saved / name, tmp_path / name)


def _too_long(signum, frame):
    raise AssertionError("still running after 60 s: a value that should have been refused")


@pytest.mark.parametrize("argv", _cases(40) + [
    ["race", "--steps", str(10 ** 10)], ["race", "--restarts", str(2 ** 64)],
    ["fit", "iris", "--optimizer", "sgd", "--epochs", str(2 ** 64)],
    ["fit", "iris", "--optimizer", "sgd", "--batch-size", str(2 ** 64), "--epochs", "2"],
    ["explain", "m.npz", "iris", "--rows", str(2 ** 64)],
    ["fit", "iris", "--max-categories", str(2 ** 64)]],
    ids=lambda a: " ".join(map(repr, a[1:]))[:80])
def test_a_fuzzed_option_succeeds_or_is_one_line_naming_the_problem(gradkit, model, argv):
    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(60)
    try:
        status, out, err = gradkit(*argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert "Traceback" not in err and "unexpected" not in err, err
    if status != 0:
        assert status == 2, (status, err)
        errors = [line for line in err.splitlines() if line.startswith("gradkit: error: ")]
        assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
