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
