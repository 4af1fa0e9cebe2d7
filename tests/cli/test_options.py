"""Every option is checked before any work: one line naming the option, exit status 2, and
nothing the user had is overwritten."""
import pytest


@pytest.mark.parametrize("argv, option", [
    (["fit", "iris", "--seed", "-1"], "--seed"),
    (["fit", "iris", "--seed", "2**40"], "--seed"),
    (["fit", "iris", "--seed", str(2 ** 40)], "--seed"),
    (["race", "--seed", "-5"], "--seed"),
    (["check", "f.py:f", "--seed", str(2 ** 33)], "--seed"),
    (["race", "--lr", "inf"], "--lr"),
    (["race", "--lr", "nan"], "--lr"),
    (["fit", "iris", "--model", "mlp", "--hidden", "100000000"], "--hidden"),
    (["fit", "iris", "--alpha", "inf"], "--alpha"),
    (["fit", "iris", "--clip-norm", "inf"], "--clip-norm"),
    (["race", "--start", "nan,nan"], "--start"),
    (["race", "--start", "inf,0"], "--start"),
    (["race", "iris", "--start", "1,2"], "--start"),
    (["fit", "iris", "--lr", "0.1"], "--lr"),
    (["fit", "iris", "--optimizer", "bfgs", "--batch-size", "10"], "--batch-size"),
    (["fit", "iris", "--clip-norm", "1"], "--clip-norm"),
    (["check", "f.py:f", "--rtol", "inf"], "--rtol"),
    (["check", "f.py:f", "--shape", "100000,100000"], "--shape"),
    (["fit", "iris", "--report", ""], "--report"),
    (["fit", "iris", "--save", ""], "--save"),
    (["race", "--report", " "], "--report"),
    (["explain", "m.npz", "iris", "--csv", ""], "--csv"),
    (["fit", "iris", "--report", "m.npz", "--save", "m.npz"], "--report and --save"),
    (["fit", "iris", "--report", "m.npz.preprocess.json", "--save", "m.npz"], "--save"),
    (["fit", "iris", "--report", "missing/r.html"], "--report"),
    (["fit", "iris", "--report", "."], "--report"),
    (["explain", "m.npz", "iris", "--csv", "m.npz"], "--csv"),
    (["fit", "iris", "--optimizer", "sgd", "--epochs", str(10 ** 10)], "--epochs"),
    (["race", "--steps", str(2 ** 64)], "--steps"),
    (["race", "--restarts", "100000"], "--restarts"),
    (["fit", "data.csv", "--dask", "--blocksize", "1e400"], "--blocksize"),
    (["explain", "m.npz", "iris", "--rows", str(2 ** 64)], "--rows"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_a_bad_option_is_one_line_naming_it_with_status_2(gradkit, argv, option, tmp_path):
    (tmp_path / "f.py").write_text("def f(x):\n    return (x ** 2).sum()\n")
    (tmp_path / "m.npz").write_bytes(b"the user's model")
    status, out, err = gradkit(*argv)
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradkit: error: "), err
    assert option in lines[0] and "unexpected" not in lines[0]
    assert (tmp_path / "m.npz").read_bytes() == b"the user's model"


def test_paths_are_checked_before_training(gradkit, monkeypatch):
    from gradkit.cli import fit

    def no_training(*a, **k):
        raise AssertionError("trained before the paths were checked")
    monkeypatch.setattr(fit, "_train", no_training)
    status, _, err = gradkit("fit", "iris", "--report", "r.html", "--save", "no/such/m.npz")
    assert status == 2 and "--save" in err


def test_a_report_that_cannot_be_written_keeps_the_model(gradkit, tmp_path, monkeypatch):
    from gradkit.report import Report

    def full_disk(self, path):
        raise OSError(28, "No space left on device", path)
    monkeypatch.setattr(Report, "write", full_disk)
    status, _, err = gradkit("fit", "iris", "--save", "m.npz", "--report", "r.html")
    assert status == 2 and "No space left" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "m.npz").exists() and (tmp_path / "m.npz.preprocess.json").exists()


@pytest.mark.parametrize("source, words", [
    ("import sys\ndef f(x):\n    return (x ** 2).sum()\nsys.exit(3)\n", "importing"),
    ("import sys\ndef f(x):\n    sys.exit(3)\n", "f.py:f called sys.exit(3)"),
    ("import sys\ndef f(x):\n    if type(x).__name__ == 'Tracer':\n        sys.exit(3)\n"
     "    return (x ** 2).sum()\n", "f.py:f called sys.exit(3)"),
])
def test_check_of_a_module_that_exits_is_an_error_not_its_status(gradkit, tmp_path, source,
                                                                 words):
    (tmp_path / "f.py").write_text(source)
    status, _, err = gradkit("check", "f.py:f")
    assert status == 2 and "sys.exit(3)" in err and words in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("column", ["a", "y"])
def test_values_too_large_to_standardise_are_named(gradkit, tmp_path, column):
    rows = [{"a": float(i), "y": float(i % 2) + 0.5} for i in range(40)]
    for i, row in enumerate(rows):
        row[column] = 1e308 * (i % 2) + 0.5
    (tmp_path / "big.csv").write_text("a,y\n" + "".join(f"{r['a']!r},{r['y']!r}\n" for r in rows))
    status, _, err = gradkit("fit", "big.csv", "--task", "regression")
    assert status == 2 and f"'{column}' has values too large to standardise" in err, err
