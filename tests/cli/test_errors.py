"""Bad input: one line on stderr, exit status 2, never a traceback."""
import json

import numpy as np
import pytest

from .conftest import HOSTILE

FILES = {
    "empty.csv": "",
    "header.csv": "a,b\n",
    "one_class.csv": "a,b\n1,x\n2,x\n3,x\n",
    "nan.csv": "a,b,c\n1,,0\n2,inf,1\n3,4,0\n4,5,1\n5,6,0\n6,7,1\n7,8,0\n8,9,1\n",
    "many.csv": "name,y\n" + "".join(f"n{i},{i % 2}\n" for i in range(80)),
    "id_target.csv": "x,id\n" + "".join(f"{i % 7},row{i}\n" for i in range(60)),
    "binary.csv": None,  # written as bytes below
    "code.py": "def f(x):\n    return x\nraise RuntimeError('boom')\n",
}


@pytest.fixture
def files(tmp_path):
    for name, text in FILES.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    (tmp_path / "binary.csv").write_bytes(b"\x00\xff\xfe\x80garbage\x00")
    (tmp_path / "hostile.csv").write_text(f"a,{HOSTILE}\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n")
    return tmp_path


CASES = [
    # (argv, words the one-line message must contain)
    (["fit", "missing.csv"], ["no such file", "missing.csv"]),
    (["fit", "not_a_dataset"], ["bundled", "breast_cancer"]),
    (["fit", "empty.csv"], ["empty"]),
    (["fit", "header.csv"], ["no data rows"]),
    (["fit", "binary.csv"], ["binary.csv"]),
    (["fit", "hostile.csv", "--target", "zzz"], ["'zzz' is not a column", HOSTILE]),
    (["fit", "one_class.csv"], ["only one class", "'x'"]),
    (["fit", "id_target.csv", "--target", "id"], ["'id' has 60 distinct values in 60 rows",
                                                  "identifier"]),
    (["fit", "nan.csv"], ["'b' (1 missing, 1 infinite)", "--dropna", "--impute mean"]),
    (["fit", "many.csv"], ["'name' has 80 distinct values", "--max-categories"]),
    (["fit", "many.csv", "--drop", "nope"], ["--drop 'nope' is not a column"]),
    (["fit", "--model", "forest"], ["invalid choice", "logistic", "mlp"]),
    (["fit", "--optimizer", "magic"], ["invalid choice", "adam", "lbfgs"]),
    (["fit", "--batch-size", "lots"], ["full, stochastic"]),
    (["fit", "--lr", "0"], ["--lr", "> 0"]),
    (["fit", "--test-size", "1.5"], ["--test-size"]),
    (["fit", "--impute", "mode"], ["invalid choice", "mean"]),
    (["fit", "diabetes", "--model", "logistic"], ["does not do regression", "linear"]),
    (["fit", "--hidden", "8"], ["--hidden", "mlp"]),
    (["fit", "--unknown-flag"], ["unrecognized arguments"]),
    (["frobnicate"], ["invalid choice", "fit"]),
    (["race", "nowhere"], ["neither a test function", "rosenbrock"]),
    (["race", "--optimizers", "adam,warp"], ["warp", "valid", "lbfgs"]),
    (["race", "--start", "1"], ["two numbers"]),
    (["explain", "missing.npz", "iris"], ["no such model file"]),
    (["explain", "binary.csv", "iris"], ["not a gradkit model file"]),
    (["check", "code.py"], ["FILE.py:FUNCTION"]),
    (["check", "code.py:f"], ["importing", "RuntimeError: boom"]),
    (["check", "nope.py:f"], ["no such file"]),
    (["check", "code.py:f", "--shape", "a,b"], ["shape"]),
]


@pytest.mark.parametrize("argv, words", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_gives_one_line_and_status_2(gradkit, files, argv, words):
    status, _, err = gradkit(*argv)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("gradkit: error: ") and "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_dropna_and_impute_let_a_table_with_gaps_through(gradkit, files):
    for option in ("--dropna", "--impute"):
        argv = ["fit", "nan.csv", option] + (["mean"] if option == "--impute" else [])
        status, _, err = gradkit(*argv, "--test-size", "0.5")
        assert status == 0, err


def test_divergence_still_writes_the_report(gradkit):
    status, out, err = gradkit("fit", "diabetes", "--model", "mlp", "--hidden", "8",
                               "--optimizer", "sgd", "--lr", "1000", "--batch-size", "8",
                               "--epochs", "3", "--save", "m.npz")
    assert status == 2
    assert err.strip().count("\n") == 0 and "training diverged" in err
    page = open("gradkit-report.html", encoding="utf-8").read()
    assert "diverged" in page and "best parameters seen were kept" in page
    assert "report:" in out
    # the last good model was saved and still predicts finite numbers
    from gradkit.models import load
    model = load("m.npz")
    assert np.all(np.isfinite(model.predict(np.zeros((2, 10)))))


@pytest.fixture
def saved(gradkit):
    assert gradkit("fit", "iris", "--save", "m.npz", "--report", "r.html")[0] == 0
    return "m.npz"


def _rewrite_meta(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["__gradkit__"]))
    change(meta)
    arrays["__gradkit__"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _truncate(path):
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])


def _other_version(path):
    _rewrite_meta(path, lambda meta: meta.update(format_version=99))


def _foreign_class(path):
    _rewrite_meta(path, lambda meta: meta.update(estimator="os.system"))


def _no_sidecar(path):
    import os
    os.remove(path + ".preprocess.json")


def _sidecar_version(path):
    record = json.load(open(path + ".preprocess.json"))
    record["version"] = 99
    json.dump(record, open(path + ".preprocess.json", "w"))


def _sidecar_garbage(path):
    open(path + ".preprocess.json", "w").write("{not json")


def _sidecar_of_another_model(path):
    # the model changes, the record does not (a valid model file: an unknown entry would
    # be refused by load itself)
    _rewrite_meta(path, lambda meta: meta["values"].update(n_iter_=meta["values"]["n_iter_"] + 1))


@pytest.mark.parametrize("damage, words", [
    (_truncate, ["cannot load the model"]),
    (_other_version, ["version 99"]),
    (_foreign_class, ["unknown estimator"]),
    (_no_sidecar, ["no preprocessing record"]),
    (_sidecar_version, ["another gradkit version"]),
    (_sidecar_garbage, ["cannot read the preprocessing record"]),
    (_sidecar_of_another_model, ["belongs to another model"]),
])
def test_a_damaged_or_foreign_model_is_refused(gradkit, saved, damage, words):
    damage(saved)
    status, _, err = gradkit("explain", saved, "iris")
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    for word in words:
        assert word in err


def test_explain_data_without_the_model_columns(gradkit, saved, files):
    status, _, err = gradkit("explain", saved, "one_class.csv")
    assert status == 2 and "lacks column" in err


def test_unexpected_errors_are_one_line_with_a_debug_hint(gradkit, monkeypatch):
    from gradkit.cli import fit

    def broken(args):
        raise ZeroDivisionError("division by zero")
    monkeypatch.setattr(fit, "run", broken)
    status, _, err = gradkit("fit")
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert "ZeroDivisionError" in err and "--debug" in err
    status, _, err = gradkit("fit", "--debug")
    assert status == 1 and "Traceback" in err
