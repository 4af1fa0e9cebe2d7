"""The report in a real browser: headless Chromium, networking off, hostile data in the table.

Chromium comes from Debian's ``chromium`` package. When it is missing the test installs it if
it runs as root and ``CI=true`` or ``GRADKIT_INSTALL_CHROMIUM=1``; otherwise it is skipped
with the reason. Deselect with ``-m "not browser"``.
"""
import base64
import io
import os
import re
import shutil
import subprocess

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from gradkit.cli import main

pytestmark = pytest.mark.browser

TITLE_ATTACK = "<script>document.title='pwned'</script>"
BODY_ATTACK = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0"]


def _find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@pytest.fixture(scope="module")
def chromium():
    path = _find_chromium()
    if path:
        return path
    allowed = os.environ.get("CI") == "true" or os.environ.get("GRADKIT_INSTALL_CHROMIUM") == "1"
    if not (allowed and hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.skip("headless Chromium is not installed (apt-get install chromium, or run as "
                    "root with CI=true or GRADKIT_INSTALL_CHROMIUM=1 to let the test install it)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"could not install chromium: {' '.join(cmd)} failed: "
                        f"{done.stderr.strip().splitlines()[-1:]}")
    path = _find_chromium()
    if not path:
        pytest.skip("chromium was installed but no chromium binary was found")
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A fit report on a CSV whose header and categories try to run script."""
    folder = tmp_path_factory.mktemp("browser")
    rng = np.random.default_rng(1)
    n = 80
    x = rng.normal(size=n)
    kind = rng.choice([BODY_ATTACK, "plain"], size=n)
    frame = pd.DataFrame({TITLE_ATTACK: x, "kind": kind,
                          "y": np.where(x + (kind == "plain") > 0.5, "a", "b")})
    frame.to_csv(folder / "hostile.csv", index=False)
    path = folder / "report.html"
    assert main(["fit", str(folder / "hostile.csv"), "--model", "mlp", "--hidden", "4",
                 "--epochs", "10", "--report", str(path)]) == 0
    return path


def _chromium(binary, tmp_path, *args):
    profile = tmp_path / "profile"
    done = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=60)
    return done


def test_the_page_renders_offline_without_errors(chromium, report, tmp_path):
    url = report.as_uri()
    done = _chromium(chromium, tmp_path, "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # no console errors, no blocked or failed loads
    problems = [line for line in done.stderr.splitlines()
                if re.search(r"CONSOLE|Refused to|net::ERR_|Uncaught", line)]
    assert problems == []
    # no script from the data ran: the attacks are text, the title and body are untouched
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert "pwned" not in title and title.startswith("gradkit fit")
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert "onerror=" not in re.sub(r"&lt;.*?&gt;", "", dom)
    # every image is an embedded PNG that decodes to a picture with content
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', dom)
    assert len(images) >= 4
    for data in images:
        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.ndim == 3 and pixels.std() > 0.01


def test_the_screenshot_is_not_blank(chromium, report, tmp_path):
    shot = tmp_path / "shot.png"
    done = _chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1200,2400",
                     report.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.std() > 0.05  # text, tables and figures, not an empty page
    assert (pixels.mean(axis=2) < 0.5).mean() > 0.01  # some dark ink: the text is drawn


# ----------------------------------------------------------------------------- issue 15
# The figures as a reader sees them: screenshots of report.build's page and of the race
# page, kept in SHOTS for a person to look at (GRADKIT_SHOTS=<dir> keeps them after the run).
TAB_BLUE = np.array([31, 119, 180]) / 255


def _shots(tmp_path_factory):
    folder = os.environ.get("GRADKIT_SHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        return __import__("pathlib").Path(folder)
    return tmp_path_factory.mktemp("shots")


def _screenshot(binary, tmp_path, page, shot, size="1200,2400"):
    done = _chromium(binary, tmp_path, f"--screenshot={shot}", f"--window-size={size}",
                     page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    return matplotlib.image.imread(str(shot))[..., :3]


def _band_height(pixels):
    """The median, over the columns that show the loss curve, of how many pixels in the
    column are the curve's full blue: a few for a line, tens for a band of raw steps."""
    near = np.linalg.norm(pixels - TAB_BLUE, axis=2) < 0.12
    counts = near.sum(axis=0)
    return float(np.median(counts[counts > 0])) if np.any(counts) else 0.0


def _digits_run():
    import warnings

    from sklearn.preprocessing import StandardScaler

    from gradkit import models
    from gradkit.data import load_dataset

    d = load_dataset("digits")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return models.MLPClassifier(hidden_layer_sizes=32, batch_size=32, max_iter=25,
                                    random_state=0).fit(StandardScaler().fit_transform(d.X),
                                                        d.y)


def _training_page(folder, est, raw_bold):
    """The 'Training curves' section of report.build for a mini-batch MLP on digits; with
    ``raw_bold`` the loss of every step is drawn at full strength instead (the old figure),
    as the control that the measure sees a band."""
    from gradkit import plot, report
    from gradkit.report import Report

    if raw_bold:
        page = Report("control")
        fig = plot.training([float(v) for v in est.history_["loss"]])  # no smoothing: n < 25
        ax = fig.axes[0]
        ax.clear()
        ax.plot(est.history_["step"], est.history_["loss"], color="tab:blue", linewidth=1.5)
        ax.set_yscale("log")
        page.section("Training curves").figure(fig)
    else:
        page = report.build(est)
        page.sections = [s for s in page.sections if s.title == "Training curves"]
    path = folder / ("control.html" if raw_bold else "training.html")
    page.save(path)
    return path


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return _shots(tmp_path_factory)


def test_the_training_curve_is_a_line_over_faint_steps_not_a_band(chromium, shots, tmp_path):
    est = _digits_run()
    page = _training_page(shots, est, raw_bold=False)
    control = _training_page(shots, est, raw_bold=True)
    smooth = _band_height(_screenshot(chromium, tmp_path, page, shots / "training.png"))
    band = _band_height(_screenshot(chromium, tmp_path, control, shots / "control.png"))
    assert band > 3 * smooth and smooth <= 8, (smooth, band)
    dom = _chromium(chromium, tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "its trend bold, per epoch" in dom


def test_the_full_report_of_a_run_renders_with_its_findings_and_figures(chromium, shots,
                                                                         tmp_path):
    from sklearn.preprocessing import StandardScaler

    from gradkit import models, report
    from gradkit.data import load_dataset

    d = load_dataset("wine")
    est = models.MLPClassifier(hidden_layer_sizes=(16, 8), batch_size=16, max_iter=40,
                               learning_rate=0.01, random_state=0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(StandardScaler().fit_transform(d.X), d.y)
    path = report.build(est, feature_names=d.feature_names).save(shots / "build.html")
    pixels = _screenshot(chromium, tmp_path, __import__("pathlib").Path(path),
                         shots / "build.png", size="1200,3600")
    assert pixels.std() > 0.05
    dom = _chromium(chromium, tmp_path, "--dump-dom", __import__("pathlib").Path(path).as_uri())
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', dom.stdout)
    assert len(images) == 3 and "no problems found" in dom.stdout
    assert "The 13 most important" not in dom.stdout and "All 13 features" in dom.stdout


def test_the_race_page_sorts_its_table_and_keeps_the_legends_off_the_data(chromium, shots,
                                                                          tmp_path):
    path = shots / "race.html"
    assert main(["race", "--steps", "120", "--report", str(path)]) == 0
    pixels = _screenshot(chromium, tmp_path, path, shots / "race.png", size="1200,2600")
    assert pixels.std() > 0.05
    dom = _chromium(chromium, tmp_path, "--dump-dom", path.as_uri()).stdout
    results = dom[dom.index(">Results</h2>"):]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", results)
    finals = [float(f) for _, f in rows]
    assert len(rows) == 8 and finals == sorted(finals)
    # the landscape is light: most of the plot is pale, so the paths stand out
    assert np.mean(pixels.mean(axis=2) > 0.75) > 0.6


# why each run stopped, where a reader looks first: the box at the top of the page, in the
# colour of its level (red for a divergence, amber for an interrupt, green for converged)
_LEVEL_BORDER = {"error": np.array([194, 48, 48]) / 255, "warning": np.array([217, 130, 43]) / 255,
                 "ok": np.array([61, 154, 80]) / 255}


def _stopped_runs():
    import warnings

    from sklearn.preprocessing import StandardScaler

    from gradkit import models
    from gradkit.data import load_dataset
    from gradkit.diagnostics import GradientMonitor
    from gradkit.optim import minimize

    class CtrlC:
        def on_epoch_end(self, info):
            if info.epoch == 3:
                raise KeyboardInterrupt

    iris, diabetes = load_dataset("iris"), load_dataset("diabetes")
    X = StandardScaler().fit_transform(iris.X)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        diverged = models.LinearRegression(optimizer="sgd", learning_rate=1.0, batch_size=32,
                                           max_iter=20).fit(diabetes.X * 100, diabetes.y)
        interrupted = models.MLPClassifier(hidden_layer_sizes=8, batch_size=16, max_iter=50,
                                           random_state=0, callbacks=[CtrlC()]).fit(X, iris.y)
    res = minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(3), method="bfgs")
    mon = GradientMonitor()
    for t, x in enumerate(res.history["f"]):
        mon.record(t, x, {"w": np.full(3, float(res.history["grad_norm"][t]) + 1e-12)},
                   {"w": np.zeros(3)})
    return [("diverged", diverged, None, "error", "Diverged at step"),
            ("interrupted", interrupted, None, "warning", "Interrupted (Ctrl-C) after 3 epochs"),
            ("loop", mon, res, "ok", "Converged: the gradient inf-norm")]


@pytest.mark.parametrize("case", range(3), ids=["diverged", "interrupted", "own-loop"])
def test_the_stop_reason_is_the_first_thing_on_the_page_in_its_colour(chromium, shots,
                                                                      tmp_path, case):
    from gradkit import report

    name, source, stop, level, words = _stopped_runs()[case]
    path = report.build(source, stop=stop).save(shots / f"stopped-{name}.html")
    page = __import__("pathlib").Path(path)
    pixels = _screenshot(chromium, tmp_path, page, shots / f"stopped-{name}.png",
                         size="1280,900")
    dom = _chromium(chromium, tmp_path, "--dump-dom", page.as_uri()).stdout
    first = dom.index("<section")
    assert dom.index("stopped: ") < dom.index("</section>", first)  # in the first section
    assert words in dom
    # the box's border is drawn in the top third of the first screen
    near = np.linalg.norm(pixels[:300] - _LEVEL_BORDER[level], axis=2) < 0.08
    assert near.sum() > 100, near.sum()
