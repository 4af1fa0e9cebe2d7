"""Every figure renders to a non-empty PNG and holds the artists it promises."""
import io

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.quiver import Quiver

from gradkit import plot
from gradkit.diagnostics import Finding
from gradkit.plot.landscape import _grid_values


def png_bytes(fig):
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return len(data)


def artists(ax, kind):
    return [c for c in ax.get_children() if isinstance(c, kind)]


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def rosenbrock_not_vectorised(p):
    return float(np.sum(np.array([(1 - p[0]) ** 2, 100 * (p[1] - p[0] ** 2) ** 2])))


PATHS = {"gd": np.array([[-1.5, 2.0], [-1.0, 1.0], [0.0, 0.2], [0.9, 0.8]]),
         "newton": [[-1.5, 2.0], [1.0, 1.0]]}


@pytest.mark.parametrize("f", [rosenbrock, lambda p: np.sum(p ** 2)], ids=["vectorised", "not"])
def test_landscape_has_contours_an_arrow_field_and_paths_with_ends_marked(f):
    fig = plot.landscape(f, (-2, 2), (-1, 3), paths=PATHS, resolution=40, arrow_grid=8)
    ax = fig.axes[0]
    assert artists(ax, ContourSet) and len(artists(ax, Quiver)) == 1
    assert len(ax.get_lines()) == 3 * len(PATHS)   # path, start, end
    assert png_bytes(fig) > 5_000


def test_landscape_without_arrows_or_paths():
    fig = plot.landscape(rosenbrock, arrows=False, resolution=30, levels=[1, 10, 100])
    assert not artists(fig.axes[0], Quiver) and not fig.axes[0].get_lines()


def test_grid_evaluation_falls_back_when_vectorising_would_be_wrong():
    shifty = lambda p: p[0] ** 2 + np.mean(p[1])  # noqa: E731  right shape, wrong values
    XX, YY = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(0, 2, 4))
    Z, vectorised = _grid_values(shifty, XX, YY)
    assert not vectorised
    np.testing.assert_allclose(Z, XX ** 2 + YY)
    Z, vectorised = _grid_values(rosenbrock, XX, YY)
    assert vectorised and np.allclose(Z, rosenbrock(np.stack([XX, YY])))


def test_landscape_rejects_paths_that_are_not_points_in_the_plane():
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        plot.landscape(rosenbrock, paths={"bad": np.zeros((3, 3))}, resolution=10)


def _model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -1.0, 2.0])
    params = {"hidden": {"w": rng.normal(size=(3, 4)), "b": np.zeros(4)}, "out": rng.normal(size=4)}

    def loss(p):
        return np.mean((np.tanh(X @ p["hidden"]["w"] + p["hidden"]["b"]) @ p["out"] - y) ** 2)

    trajectory = [{"hidden": {"w": params["hidden"]["w"] * s, "b": np.full(4, 0.1 * s * s)},
                   "out": params["out"] * (1 + s)} for s in np.linspace(2.0, 1.0, 6)]
    return loss, params, trajectory


@pytest.mark.parametrize("directions, with_path", [("random", False), ("random", True),
                                                   ("pca", True), ("given", False)])
def test_loss_slice(directions, with_path):
    loss, params, trajectory = _model()
    if directions == "given":
        directions = (np.eye(20)[0], np.eye(20)[5])
    fig = plot.loss_slice(loss, params, directions, trajectory if with_path else None,
                          resolution=8, rng=0)
    ax = fig.axes[0]
    assert artists(ax, ContourSet)
    assert len(ax.get_lines()) == 1 + (3 if with_path else 0)  # centre (+ path, start, end)
    assert png_bytes(fig) > 5_000


@pytest.mark.parametrize("directions, trajectory, match", [
    ("pca", None, "needs trajectory"),
    ("eigen", None, "directions='eigen'"),
    ((np.ones(3), np.ones(20)), None, "has 3 entries"),
])
def test_loss_slice_errors(directions, trajectory, match):
    loss, params, _ = _model()
    with pytest.raises(ValueError, match=match):
        plot.loss_slice(loss, params, directions, trajectory, resolution=4)


def test_training_draws_train_and_validation_loss_and_the_learning_rate():
    h = {"step": list(range(50)), "loss": list(1.0 / np.arange(1, 51)),
         "learning_rate": list(0.1 * 0.95 ** np.arange(50)),
         "val_step": [0, 10, 20, 30, 40], "val_loss": [1.0, 0.2, 0.1, 0.08, 0.07]}
    fig = plot.training(h)
    loss_ax, lr_ax = fig.axes
    raw, smooth, val = loss_ax.get_lines()  # each step faint, the moving average bold
    assert raw.get_alpha() < 0.5 < smooth.get_linewidth() / raw.get_linewidth()
    assert len(lr_ax.get_lines()) == 1
    assert png_bytes(fig) > 5_000
    assert len(plot.training([3.0, 2.0, 1.0]).axes) == 1  # a plain loss curve, no rate
    constant = dict(h, learning_rate=[0.1] * 50)
    fig = plot.training(constant)
    assert len(fig.axes) == 1 and "constant learning rate 0.1" in fig.axes[0].get_title()


def test_a_mini_batch_run_is_drawn_per_epoch_and_smoothed_over_one():
    rng = np.random.default_rng(0)
    steps = np.arange(1, 201)  # 20 epochs of 10 steps, as an estimator numbers them
    loss = (0.2 + np.exp(-steps / 40)) * np.exp(rng.normal(0, 0.3, steps.size))
    h = {"step": list(steps), "loss": list(loss),
         "grad_norm": {"a": list(np.exp(rng.normal(0, 0.5, steps.size))), "b": [1.0] * 200}}
    fig = plot.training(h, steps_per_epoch=10)
    ax = fig.axes[0]
    raw, smooth = ax.get_lines()
    assert ax.get_xlabel() == "epoch" and raw.get_xdata()[-1] == 20.0
    # the moving average is far steadier than the steps
    assert np.std(np.diff(smooth.get_ydata()[50:])) < 0.2 * np.std(np.diff(loss[50:]))
    flow = plot.gradient_flow(h, [], steps_per_epoch=10)
    assert flow.axes[0].get_xlabel() == "epoch" and len(flow.legends) == 1
    assert not flow.axes[0].get_legend()  # the legend is beside the axes


def test_gradient_flow_draws_one_log_line_per_layer_and_marks_the_findings():
    h = {"step": list(range(10)), "loss": [1.0] * 10,
         "grad_norm": {"l1": [1e-9] * 10, "l2": [1e-2] * 10, "l3": [1.0] * 10}}
    fig = plot.gradient_flow(h)  # runs diagnose: l1 vanishes from step 0
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()[:3]] == ["l1", "l2", "l3"]
    assert len({line.get_color() for line in ax.get_lines()[:3]}) == 3
    assert len(ax.get_lines()) == 4  # and one vertical line for the finding
    assert len(ax.collections) == 1  # the cross on l1's curve
    findings = [Finding("exploding", "x", layer="l3", step=4), Finding("nan", "y", step=7)]
    marked = plot.gradient_flow(h, findings=findings)
    assert len(marked.axes[0].get_lines()) == 5
    assert png_bytes(marked) > 5_000
    with pytest.raises(ValueError, match="grad_norm"):
        plot.gradient_flow({"loss": [1.0]})


def test_attributions_draws_one_bar_per_feature_largest_on_top():
    fig = plot.attributions(np.array([0.2, -0.9, 0.5, 0.1]), ["a", "b", "c", "d"])
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert ax.get_yticklabels()[-1].get_text() == "b"
    assert png_bytes(fig) > 3_000
    assert len(plot.attributions({"a": 1.0, "b": 2.0, "c": 0.5}, top=2).axes[0].patches) == 2
    with pytest.raises(ValueError, match="3 feature names for 4"):
        plot.attributions(np.ones(4), ["a", "b", "c"])


def test_race_draws_each_optimizer_against_evaluations_and_time():
    results = {"gd": {"f": [10, 5, 2, 1, 0.5], "nfev": [1, 3, 5, 7, 9], "time": [0.1, 0.2, 0.3, 0.4, 0.5]},
               "bfgs": {"f": [10, 1, 1e-3], "nfev": [1, 2, 4], "time": [0.2, 0.5, 0.9]},
               "newton": {"f": [10, 1e-8]}}
    fig = plot.race(results, f_star=0.0)
    by_nfev, by_time = fig.axes
    assert len(by_nfev.get_lines()) == 3 and len(by_time.get_lines()) == 2
    assert by_nfev.get_yscale() == "log"
    assert png_bytes(fig) > 5_000
    with pytest.raises(ValueError, match="2 'nfev' values for 3"):
        plot.race({"gd": {"f": [3, 2, 1], "nfev": [1, 2]}})


def test_figures_do_not_touch_pyplot():
    import sys
    import matplotlib
    backend = matplotlib.get_backend()
    plot.training([1.0, 0.5])
    assert matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt
        assert plt.get_fignums() == []


def _overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("make", [
    lambda: plot.landscape(rosenbrock, (-2, 2), (-1, 3), resolution=30, arrow_grid=6,
                           paths={f"opt{i}": PATHS["gd"] + 0.05 * i for i in range(8)}),
    lambda: plot.race({f"opt{i}": {"f": [4.0, 2.0, 1.0 / (i + 1)], "time": [.1, .2, .3]}
                       for i in range(8)}),
    lambda: plot.gradient_flow({"loss": [1.0] * 5, "grad_norm": {f"l{i}": [1.0] * 5
                                                                 for i in range(8)}}, []),
    lambda: plot.training({"loss": list(np.linspace(1.0, 30.0, 200)),
                           "val_loss": list(np.linspace(1.0, 30.0, 10)),
                           "learning_rate": [0.1] * 100 + [0.01] * 100}),
], ids=["landscape", "race", "gradient_flow", "training"])
def test_legends_sit_beside_the_axes_not_over_the_data(make):
    fig = make()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert len(fig.legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    box = fig.legends[0].get_window_extent(renderer)
    data_axes = [ax for ax in fig.axes if ax.get_lines()]
    assert data_axes and not any(_overlaps(box, ax.get_window_extent(renderer))
                                 for ax in data_axes)


def test_eight_paths_have_eight_colours_and_eight_markers_on_a_light_landscape():
    paths = {f"opt{i}": PATHS["gd"] + 0.05 * i for i in range(8)}
    fig = plot.landscape(rosenbrock, (-2, 2), (-1, 3), resolution=30, paths=paths,
                         arrows=False)
    lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert len({ln.get_color() for ln in lines}) == len({ln.get_marker() for ln in lines}) == 8
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    assert np.mean(pixels.mean(axis=2) > 0.75) > 0.6  # mostly pale: the paths carry colour


def test_the_importance_title_counts_the_features_shown():
    assert plot.attributions(np.arange(8.0)).axes[0].get_title() == \
        "feature importance: all 8 features"
    assert plot.attributions(np.arange(30.0), top=20).axes[0].get_title() == \
        "the 20 most important of 30 features"


def test_the_smoothed_curves_do_not_lag_a_trend():
    # a diverging run: the gradient norm grows tenfold a step, with noise; a trailing average
    # draws it decades below where it is, the trend follows it
    from gradkit.plot.training import ema

    rng = np.random.default_rng(0)
    steps = np.arange(250)
    decades = 0.3 * steps  # twice as large every step
    norms = 10.0 ** (decades + rng.uniform(-0.1, 0.1, 250))
    fig = plot.gradient_flow({"loss": [1.0] * 250, "grad_norm": {"w": list(norms)}}, [])
    drawn = fig.axes[0].get_lines()[1].get_ydata()  # the bold line over the faint steps
    assert np.abs(np.log10(drawn) - decades).max() < 0.1  # at the start, middle and end
    lagged = np.log10(np.exp(ema(np.log(norms), 10)))  # a trailing average of that span
    assert (decades - lagged)[-1] > 1
    # a noisy falling loss: the trend is steadier than the steps and follows their mean
    steps = np.arange(200)
    loss = np.exp(-steps / 50) * (1 + 0.3 * rng.standard_normal(200))
    trend = plot.smooth(loss, 16)
    assert np.std(np.diff(trend)) < 0.3 * np.std(np.diff(loss))
    assert np.abs(trend - np.exp(-steps / 50)).max() < 0.2


def test_log_axes_over_a_few_decades_are_labelled_with_plain_numbers():
    fig = plot.gradient_flow({"loss": [1.0] * 20,
                              "grad_norm": {"w": list(np.linspace(0.3, 4.0, 20))}}, [])
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels(minor=True)
              + fig.axes[0].get_yticklabels() if t.get_text()]
    assert labels and not any("10^" in t or "times" in t or "\\" in t for t in labels)
    assert {"0.5", "1", "2"} <= set(labels)
