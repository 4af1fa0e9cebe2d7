"""Why every run stopped, in the report: each reason of an estimator's ``stop_reason_`` and of
a solver's ``OptimizeResult``, with what was judged and its threshold, in the built HTML."""
import html
import re
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from gradkit import models, report
from gradkit.data import load_dataset
from gradkit.diagnostics import GradientMonitor
from gradkit.models.callbacks import EarlyStopping
from gradkit.models.parameters import STOP_REASONS
from gradkit.optim import minimize, run, sgd


def _iris():
    d = load_dataset("iris")
    return StandardScaler().fit_transform(d.X), d.y


class _Enough:
    """Asks to stop at the end of epoch 3."""

    def on_epoch_end(self, info):
        return info.epoch == 3


class _CtrlC:
    """A Ctrl-C at the end of epoch (iteration) 3."""

    def on_epoch_end(self, info):
        if info.epoch == 3:
            raise KeyboardInterrupt


def _diverged():
    d = load_dataset("diabetes")
    return models.LinearRegression(optimizer="sgd", learning_rate=1.0, batch_size=32,
                                   max_iter=20).fit(d.X * 100, d.y)


# (reason, how the estimator is fit, words the sentence must hold)
ESTIMATOR_CASES = [
    ("converged", lambda X, y: models.LogisticRegression().fit(X, y),
     ["gradient inf-norm of lbfgs", "tol=0.0001"]),
    ("no_improvement", lambda X, y: models.MLPClassifier(
        hidden_layer_sizes=8, early_stopping=True, n_iter_no_change=3, max_iter=300,
        random_state=0).fit(X, y),
     ["validation score", "n_iter_no_change=3", "early_stopping=True"]),
    ("no_improvement", lambda X, y: models.LogisticRegression(
        optimizer="sgd", tol=1e-2, n_iter_no_change=2, max_iter=300).fit(X, y),
     ["training loss", "tol=0.01", "n_iter_no_change=2"]),
    ("max_iter", lambda X, y: models.LogisticRegression(optimizer="adam", max_iter=3).fit(X, y),
     ["max_iter=3 epochs"]),
    ("max_iter", lambda X, y: models.LogisticRegression(max_iter=2, tol=1e-12).fit(X, y),
     ["max_iter=2 iterations", "gradient inf-norm", "tol=1e-12"]),
    ("diverged", lambda X, y: _diverged(), ["Diverged at step", "best parameters seen"]),
    ("callback", lambda X, y: models.LogisticRegression(
        optimizer="sgd", tol=0, max_iter=300,
        callbacks=[EarlyStopping(monitor="loss", patience=2, min_delta=0.01,
                                 restore_best_weights=True)]).fit(X, y),
     ["EarlyStopping", "loss did not improve", "min_delta=0.01", "patience=2",
      "were restored"]),
    ("callback", lambda X, y: models.LogisticRegression(
        optimizer="sgd", max_iter=300, callbacks=[_Enough()]).fit(X, y),
     ["the callback _Enough", "after 3 epochs"]),
    ("interrupted", lambda X, y: models.LogisticRegression(
        optimizer="sgd", max_iter=300, callbacks=[_CtrlC()]).fit(X, y),
     ["Interrupted (Ctrl-C) after 3 epochs", "best parameters seen were kept"]),
    ("interrupted", lambda X, y: models.LogisticRegression(
        max_iter=300, tol=1e-12, callbacks=[_CtrlC()]).fit(X, y),
     ["Interrupted (Ctrl-C) after 3 iterations"]),
]


def _stop_box(page):
    """``(label, sentence)`` of the page's first stop box."""
    m = re.search(r'<div class="finding[^"]*"><span class="kind">stopped: ([^<]+)</span> '
                  r'([^<]*)</div>', page)
    assert m, "no stop box in the page"
    return m.group(1), html.unescape(m.group(2))


@pytest.mark.parametrize("reason, fit, words", ESTIMATOR_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(ESTIMATOR_CASES)])
def test_the_report_of_an_estimator_says_why_it_stopped(reason, fit, words):
    X, y = _iris()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        est = fit(X, y)
    assert est.stop_reason_ == reason
    page = report.build(est).to_html()
    label, sentence = _stop_box(page)
    assert label == reason.replace("_", " ")
    for w in words:
        assert w in sentence, (w, sentence)
    # in the first section, the run's summary, before the curves
    assert page.index("stopped: ") < page.index("<h2>Training curves</h2>")
    if reason == "diverged":
        assert f"step {est.diverged_at_}" in sentence
        assert 'class="finding error"><span class="kind">stopped' in page


def test_every_stop_reason_of_the_estimators_is_covered_above():
    assert {c[0] for c in ESTIMATOR_CASES} == set(STOP_REASONS)


def _loop(n=12):
    """A monitor of a short loop of one's own."""
    mon, w = GradientMonitor(), np.ones(2)
    for t in range(n):
        g = 2 * w
        mon.record(t, float(np.sum(w ** 2)), {"w": g}, {"w": w}, learning_rate=0.1)
        w = w - 0.1 * g
    return mon


def _quartic(x):
    return np.sum((x - 1.0) ** 4)


# (reason, the result of a solver or run, words the sentence must hold)
RESULT_CASES = [
    ("converged", lambda: minimize(_quartic, np.zeros(2), method="bfgs", tol=1e-4),
     ["Converged: the gradient inf-norm", "tol=0.0001", "bfgs"]),
    ("max_iter", lambda: minimize(_quartic, np.zeros(2), method="gd", max_iter=2, tol=1e-12),
     ["max_iter=2", "gd, 2 iterations"]),
    ("callback", lambda: minimize(_quartic, np.zeros(2), method="bfgs",
                                  callback=lambda info: info.nit == 2),
     ["Stopped by the callback at iteration 2"]),
    ("diverged", lambda: run(sgd(10.0), lambda x: np.sum(x ** 4), np.full(2, 3.0), 50),
     ["became inf", "best finite point"]),
    ("no_improvement", lambda: run(sgd(0.0), lambda x: np.sum(x ** 2), np.ones(2), 50,
                                   n_iter_no_change=3),  # a rate of 0: f never falls
     ["did not improve for 3", "n_iter_no_change"]),
]


@pytest.mark.parametrize("reason, make, words", RESULT_CASES, ids=[c[0] for c in RESULT_CASES])
def test_a_report_from_ones_own_loop_says_why_the_solver_stopped(reason, make, words):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = make()
    assert report.stop_reason(res).reason == reason
    for page in (report.build(res).to_html(), report.build(_loop(), stop=res).to_html()):
        label, sentence = _stop_box(page)
        assert label == reason.replace("_", " ")
        for w in words:
            assert w in sentence, (w, sentence)
        assert "<h2>Summary</h2>" in page


def test_a_result_is_a_run_of_its_own_with_its_curve_and_gradient():
    res = minimize(_quartic, np.zeros(2), method="gd", max_iter=30, tol=1e-12)
    r = report.build(res)
    assert [s.title for s in r.sections] == ["Summary", "Training curves",
                                             "Gradient flow and findings"]
    page = r.to_html()
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2
    assert f"<td>steps recorded</td><td>{res.nit + 1}</td>" in page


@pytest.mark.parametrize("stop, label", [("interrupted", "interrupted"),
                                         ("max_iter", "max iter"),
                                         ("the loss fell below 0.01 <ok>", "why")])
def test_a_loop_of_ones_own_gives_its_reason_by_name_or_in_its_own_words(stop, label):
    page = report.build(_loop(), stop=stop).to_html()
    got, sentence = _stop_box(page)
    assert got == label
    if label == "why":
        assert sentence == stop and "<ok>" not in page  # escaped
    # a history saved with its reason gives the same
    h = dict(_loop().history, stop_reason=stop)
    assert _stop_box(report.build(h).to_html()) == (got, sentence)


def test_without_a_reason_the_summary_says_nothing_about_stopping():
    page = report.build(_loop()).to_html()
    assert "stopped:" not in page and "<h2>Summary</h2>" in page
    assert "<td>lowest loss</td><td>0.015 (step 11)</td>" in page
    per_epoch = report.build(_loop(), steps_per_epoch=4).to_html()  # the epochs' means
    assert "<td>epochs</td><td>3</td>" in per_epoch
    assert "<td>lowest epoch&#x27;s mean loss</td>" in per_epoch and "(epoch 3)" in per_epoch


def test_the_fit_command_report_says_why_it_stopped(tmp_path):
    from gradkit.cli import main

    path = tmp_path / "r.html"
    assert main(["fit", "wine", "--model", "mlp", "--hidden", "8", "--epochs", "5",
                 "--report", str(path)]) == 0
    label, sentence = _stop_box(path.read_text(encoding="utf-8"))
    assert label == "max iter" and "max_iter=5 epochs" in sentence


def test_the_stop_box_does_not_say_stopped_twice():
    """The box's label reads "stopped: <reason>"; the sentence under it does not start with
    "Stopped:" again (the reason's own text does, for the CLI and stop_reason)."""
    from gradkit.report import Report, stop_block
    section = Report("t").section("s")
    stop_block(section, "max_iter")
    label, sentence = _stop_box(section.to_html())
    assert label == "max iter"
    assert not sentence.lower().startswith("stopped"), sentence
    stop_block(section, "Stopped: the line search found no lower f.")
    assert "</span> The line search found no lower f.</div>" in section.to_html()
