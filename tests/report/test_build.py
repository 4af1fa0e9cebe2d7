"""report.build: the report of a run from an estimator, a monitor or a history; notebook views."""
import html
import json
import re
import warnings

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

import gradkit as gk
from gradkit import models, report
from gradkit.data import load_dataset
from gradkit.diagnostics import Finding, Findings, GradientMonitor, History, diagnose
from gradkit.optim import minimize

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def estimator():
    d = load_dataset("iris")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return models.MLPClassifier(hidden_layer_sizes=8, batch_size=16, max_iter=20,
                                    learning_rate=0.01, random_state=0).fit(
            StandardScaler().fit_transform(d.X), d.y)


def monitor_of_a_diverging_loop(group=HOSTILE):
    X = np.random.default_rng(0).normal(size=(50, 3)) * 10
    y = X @ np.ones(3)
    w, mon = {group: np.zeros(3)}, GradientMonitor()
    vg = gk.value_and_grad(lambda p: np.mean((X @ p[group] - y) ** 2))
    with np.errstate(all="ignore"):
        for t in range(12):
            value, g = vg(w)
            mon.record(t, value, g, w, learning_rate=0.05)
            w = {group: w[group] - 0.05 * g[group]}
    return mon


def test_a_report_from_an_estimator_has_its_model_curves_gradients_and_importances(estimator):
    page = report.build(estimator).to_html()
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == ["Model and optimizer", "Training curves", "Gradient flow and findings",
                      "Feature importance"]
    assert "stopped: max iter" in page and "max_iter=20 epochs reached" in page
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3
    # the settings given, not every parameter
    assert "hidden_layer_sizes" in page and "batch_size" in page and ">tol<" not in page
    assert "no problems found" in page
    assert "All 4 features, the most important on top." in page


def test_monitor_history_and_saved_history_give_the_same_report():
    mon = monitor_of_a_diverging_loop()
    saved = json.loads(json.dumps(mon.history, allow_nan=True))
    pages = [report.build(s).to_html() for s in (mon, mon.history, saved)]
    strip = [re.sub(r"base64,[^\"]+|\d{4}-\d\d-\d\d \d\d:\d\d", "", p) for p in pages]
    assert strip[0] == strip[1] == strip[2]


def test_a_finding_is_shown_beside_its_plot_with_its_evidence_and_every_string_escaped():
    mon = monitor_of_a_diverging_loop()
    page = report.build(mon, title=HOSTILE).to_html()
    assert "<script>" not in page and html.escape(HOSTILE) in page
    curves = page[page.index("<h2>Training curves</h2>"):page.index("<h2>Gradient flow")]
    flow = page[page.index("<h2>Gradient flow"):]
    assert "divergence" in curves and 'class="evidence"' in curves
    assert "steps 0 to 11" in curves  # the window it was judged on
    assert "exploding" in flow and "divergence" not in flow


def test_no_all_clear_is_given_while_the_loss_has_a_finding():
    h = {"loss": [1.0, 0.5, 0.3, 0.2, 0.2, 0.6, 0.8, 0.9, 0.9, 0.9],
         "grad_norm": {"w": [1.0] * 10}}
    page = report.build(h).to_html()
    assert "too high" in page and "no problems found" not in page
    assert "the findings about the loss are under the training curves" in page


def test_save_writes_the_page_and_a_notebook_gets_a_scoped_fragment(tmp_path, estimator):
    r = report.build(estimator)
    path = r.save(tmp_path / "run.html")
    assert open(path, encoding="utf-8").read().startswith("<!DOCTYPE html>")
    fragment = r._repr_html_()
    assert "<html" not in fragment and "<body" not in fragment
    style = re.search(r"<style>(.*?)</style>", fragment, re.S).group(1)
    selectors = [rule.split("{")[0] for rule in style.split("}") if "{" in rule]
    assert selectors and all(s.startswith(".gk-report") for sel in selectors
                             for s in sel.split(","))


def test_a_diverged_estimator_gets_every_figure_and_the_divergence():
    d = load_dataset("diabetes")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        est = models.LinearRegression(optimizer="sgd", learning_rate=1.0, batch_size=32,
                                      max_iter=20).fit(d.X * 100, d.y)
    assert est.diverged_
    page = report.build(est).to_html()
    assert "figure missing" not in page and "divergence" in page


def test_build_refuses_what_is_not_a_run():
    with pytest.raises(TypeError, match="estimator, a GradientMonitor, a history dict .* "
                                        "or an OptimizeResult"):
        report.build([1.0, 2.0])


def test_numbers_have_one_format():
    assert [report.format_number(v) for v in (1.0, 1, 0.5, 1e-5)] == \
        ["1.000", "1", "0.500", "1.000e-05"]
    page_section = report.Report("t").section("s")
    page_section.table([("accuracy", 1.0)])
    assert "<td>1.000</td>" in page_section.to_html()


def test_findings_results_and_histories_show_inline_escaped():
    mon = monitor_of_a_diverging_loop()
    findings = diagnose(mon)
    assert isinstance(findings, Findings) and findings
    view = findings._repr_html_()
    assert "<script>" not in view and html.escape(HOSTILE, quote=False) in view
    assert "judged on" in view and "What to do" in view
    f = Finding("nan", HOSTILE, layer=HOSTILE, evidence={HOSTILE: HOSTILE})
    assert "<script>" not in f._repr_html_()
    res = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(3), method="bfgs")
    view = res._repr_html_()
    assert "<table>" in view and "success" in view and "<script" not in view
    res["message"] = HOSTILE
    assert "<script>" not in res._repr_html_()
    h = History(mon.history)
    assert "steps recorded" in h._repr_html_() and "<script>" not in h._repr_html_()
    assert json.loads(json.dumps(h, allow_nan=True))["step"] == list(range(12))


def test_the_settings_table_shows_what_was_set_and_names_what_the_solver_ignores():
    class Quiet:
        def on_epoch_end(self, info):
            return None

    d = load_dataset("iris")
    X = StandardScaler().fit_transform(d.X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = models.LogisticRegression(learning_rate=0.5, batch_size=8, alpha=0.1,
                                        callbacks=[Quiet()]).fit(X, d.y)  # lbfgs
    page = report.build(est).to_html()
    settings = page[page.index("Settings given"):page.index("</section>")]
    assert "<td>alpha</td><td>0.1</td>" in settings
    assert "<td>callbacks</td><td>[Quiet]</td>" in settings and " at 0x" not in page
    assert "<td>learning_rate</td>" not in settings and "<td>batch_size</td>" not in settings
    assert "Set but not used by lbfgs (a full-batch method): batch_size, learning_rate." in page
