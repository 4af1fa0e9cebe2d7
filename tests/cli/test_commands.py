"""End to end: every ``gradkit`` command on bundled data and on small CSVs made here."""
import base64
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from .conftest import HOSTILE

SECTIONS_FIT = ["Data", "Model and optimizer", "Held-out scores", "Training curves",
                "Learning rate", "Gradient flow and findings", "Feature importance"]


def _images(page):
    return re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)


def _assert_self_contained(page):
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)\s*=\s*\"(https?:|//)", page)
    assert "http://" not in page and "https://" not in page
    for data in _images(page):
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, score", [
    (["fit"], "held-out accuracy"),                                          # breast_cancer
    (["fit", "diabetes", "--model", "linear", "--optimizer", "sgd", "--lr", "0.05",
      "--batch-size", "32", "--epochs", "5"], "held-out R2"),
    (["fit", "iris", "--model", "mlp", "--hidden", "8", "--optimizer", "adam", "--lr", "0.05",
      "--epochs", "20", "--batch-size", "full"], "held-out accuracy"),
    (["fit", "wine", "--model", "svm", "--penalty", "l2", "--alpha", "0.1"],
     "held-out accuracy"),
])
def test_fit_on_bundled_data_writes_a_full_report(gradkit, argv, score):
    status, out, err = gradkit(*argv, "--report", "r.html")
    assert status == 0, err
    assert score in out and "report:" in out and "findings:" in out
    assert err == ""  # no progress bar and no warnings when stderr is not a terminal
    page = open("r.html", encoding="utf-8").read()
    for title in SECTIONS_FIT:
        assert f"<h2>{title}</h2>" in page
    _assert_self_contained(page)
    assert len(_images(page)) >= 4  # scores, training, gradient flow, importances


def test_fit_breast_cancer_scores_well(gradkit):
    status, out, _ = gradkit("fit")
    accuracy = float(re.search(r"held-out accuracy ([0-9.]+)", out).group(1))
    assert status == 0 and accuracy > 0.9
    assert os.path.exists("gradkit-report.html")


def test_fit_csv_with_mixed_types_missing_cells_and_hostile_strings(gradkit, mixed_csv):
    status, out, err = gradkit("fit", mixed_csv, "--impute", "mean", "--report", "r.html")
    assert status == 0, err
    page = open("r.html", encoding="utf-8").read()
    _assert_self_contained(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img src=x" not in page
    assert "no &amp; &lt;b&gt;" in page
    assert "colour: one-hot, 3 categories" in page
    assert "--impute mean filled 2 cells of column size" in page


def test_fit_dropna_reports_the_dropped_rows(gradkit, mixed_csv):
    status, _, err = gradkit("fit", mixed_csv, "--dropna", "--report", "r.html")
    assert status == 0, err
    assert "--dropna dropped 3 of 120 rows" in open("r.html", encoding="utf-8").read()


def test_save_then_explain_applies_the_same_preprocessing(gradkit, mixed_csv):
    status, _, err = gradkit("fit", mixed_csv, "--impute", "mean", "--save", "m.npz",
                             "--report", "r.html")
    assert status == 0, err
    record = json.load(open("m.npz.preprocess.json"))
    assert record["target"]["classes"] == ["no & <b>", "yes"]
    status, out, err = gradkit("explain", "m.npz", mixed_csv, "--impute", "mean",
                               "--csv", "imp.csv", "--report", "e.html")
    assert status == 0, err
    rows = open("imp.csv", encoding="utf-8").read().splitlines()
    assert rows[0] == "feature,importance" and len(rows) == 1 + len(record["feature_names"])
    assert rows[1].split(",")[0] in ("size", "colour=red")  # the features the label uses
    page = open("e.html", encoding="utf-8").read()
    _assert_self_contained(page)
    assert "accuracy" in page


def test_explain_bundled_model(gradkit):
    assert gradkit("fit", "iris", "--save", "iris.npz")[0] == 0
    status, out, err = gradkit("explain", "iris.npz", "iris", "--method", "gradient_x_input",
                               "--rows", "30")
    assert status == 0, err
    assert "30 rows" in out and os.path.exists("gradkit-importances.csv")


@pytest.mark.parametrize("argv, expect", [
    (["race", "--steps", "40"], "rosenbrock"),
    (["race", "beale", "--optimizers", "adam,lbfgs", "--steps", "30"], "beale"),
    (["race", "saddle", "--optimizers", "sgd,newton", "--steps", "30", "--start", "1,0.01"],
     "saddle"),
    (["race", "ill-conditioned", "--optimizers", "momentum,bfgs", "--steps", "30"],
     "quadratic"),
    (["race", "himmelblau", "--optimizers", "rmsprop,newton-cg", "--steps", "30"],
     "himmelblau"),
    (["race", "iris", "--optimizers", "sgd,adam,lbfgs", "--steps", "15"], "iris"),
])
def test_race_writes_landscape_and_race_figures(gradkit, argv, expect):
    status, out, err = gradkit(*argv, "--report", "race.html")
    assert status == 0, err
    assert expect in out
    page = open("race.html", encoding="utf-8").read()
    for title in ("Landscape and paths", "Loss against evaluations and time", "Results"):
        assert f"<h2>{title}</h2>" in page
    _assert_self_contained(page)
    assert len(_images(page)) >= 2


def test_race_second_order_methods_reach_the_rosenbrock_minimum(gradkit):
    status, out, _ = gradkit("race", "--optimizers", "newton,lbfgs", "--steps", "200")
    best = [float(v) for v in re.findall(r"best f (\S+)", out)]
    assert status == 0 and len(best) == 2 and max(best) < 1e-8


CHECK_SOURCE = '''
import numpy as np
import gradkit as gk

def good(x, y):
    return np.sum(np.tanh(x) @ y) + np.sum(y ** 3)

def matrix_out(x):
    return np.sin(x) * 2.0

@gk.custom_vjp
def wrong(x):
    return np.sum(x ** 2)

wrong.defvjp(lambda x: (np.sum(x ** 2), x), lambda x, g: (g * x,))  # should be 2 x

def escapes(x):
    return float(np.asarray(x).sum())
'''


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mycode.py"
    path.write_text(CHECK_SOURCE)
    return path


@pytest.mark.parametrize("function, shapes, status, verdict", [
    ("good", ["3,4", "4"], 0, "OK"),
    ("matrix_out", ["2,3"], 0, "OK"),
    ("good", ["20,4", "4"], 0, "random directions"),
])
def test_check_accepts_correct_gradients(gradkit, user_file, function, shapes, status, verdict):
    argv = ["check", f"{user_file}:{function}"]
    for s in shapes:
        argv += ["--shape", s]
    code, out, err = gradkit(*argv)
    assert code == status, out + err
    assert out.count(verdict) >= 1 and "every gradient agrees" in out


def test_check_flags_a_wrong_or_missing_gradient(gradkit, user_file):
    code, out, _ = gradkit("check", f"{user_file}:wrong", "--shape", "3")
    assert code == 1 and "MISMATCH" in out
    code, out, _ = gradkit("check", f"{user_file}:escapes", "--shape", "3")
    assert code == 1 and ("CANNOT DIFFERENTIATE" in out or "ERROR" in out)


def test_help_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "gradkit", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    for word in ("fit", "race", "explain", "check", "examples:"):
        assert word in result.stdout


@pytest.mark.parametrize("command", ["fit", "race", "explain", "check"])
def test_every_command_has_help_with_examples(gradkit, command):
    status, out, _ = gradkit(command, "--help")
    assert status == 0 and "examples:" in out


def test_fit_reads_parquet_like_csv(gradkit, mixed_csv, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow, an optional dependency")
    import pandas as pd
    parquet = tmp_path / "mixed.parquet"
    pd.read_csv(mixed_csv).to_parquet(parquet)
    outs = []
    for path in (mixed_csv, parquet):
        status, out, err = gradkit("fit", path, "--target", "label", "--dropna", "--seed", "0",
                                   "--report", "r.html")
        assert status == 0, err
        outs.append(re.search(r"held-out accuracy (\S+)", out).group(1))
    assert outs[0] == outs[1]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_fit_shows_a_progress_bar_with_loss_and_gradient_norm_on_a_terminal(gradkit,
                                                                             monkeypatch):
    terminal = _Terminal()  # (the runs above check that a non-terminal gets no bar)
    monkeypatch.setattr(sys, "stderr", terminal)
    status, out, _ = gradkit("fit", "diabetes", "--model", "linear", "--optimizer", "sgd",
                             "--batch-size", "32", "--epochs", "3", "--report", "r.html")
    assert status == 0 and "held-out R2" in out
    assert re.search(r"epoch=3, loss=[0-9.e+-]+, grad_norm=[0-9.e+-]+", terminal.getvalue())


def test_the_commands_use_only_the_estimators_public_api():
    import ast
    import pathlib

    import gradkit.cli

    for path in pathlib.Path(gradkit.cli.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in ("estimator", "est", "model")
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                raise AssertionError(f"{path.name}:{node.lineno} reads {node.value.id}."
                                     f"{node.attr}")


def test_race_kfac_on_a_data_set_and_refused_on_a_landscape_saying_why(gradkit):
    """K-FAC preconditions a network's layers: on a data set (one Linear layer, softmax
    regression) it races, descending as the others do; a test function has no layers."""
    status, out, err = gradkit("race", "iris", "--optimizers", "kfac,adam", "--steps", "30",
                               "--report", "race.html")
    assert status == 0, err
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("kfac"))
    best = float(line.split("best f")[1].split()[0])
    assert best < 0.3  # from log(3) = 1.10 at the small random start
    assert "kfac" in open("race.html", encoding="utf-8").read()
    status, out, err = gradkit("race", "rosenbrock", "--optimizers", "kfac,adam")
    assert status != 0 and "layers of a network" in err and "race kfac on a data set" in err
