"""Ctrl-C during ``gradkit fit``: the model and the report of what was trained are written,
then the command exits 130 with one line saying so."""
import fcntl
import os
import pathlib
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import numpy as np
import pytest

import gradkit
import gradkit.models as models

SRC = str(pathlib.Path(gradkit.__file__).resolve().parents[1])  # this checkout's code


def _read_until(fd, pattern, timeout):
    """What the terminal ``fd`` shows until ``pattern`` appears (or ``timeout`` seconds)."""
    seen, deadline = b"", time.monotonic() + timeout
    while pattern not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
    return seen


def _drain(fd):
    seen = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            return seen
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return seen
        if not chunk:
            return seen
        seen += chunk


def interrupted_fit(argv, cwd, timeout=120):
    """Run ``python -m gradkit`` with ``argv`` in ``cwd``, its stderr on a terminal 200
    columns wide (so the progress bar shows each epoch as it ends: a new pty is 0 wide, and
    tqdm draws nothing there), send SIGINT once the first epoch has ended, and return
    ``(stdout, the terminal's last line)``; the exit status must be 130 and the terminal
    free of tracebacks."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    env = dict(os.environ, PYTHONPATH=SRC)
    child = subprocess.Popen([sys.executable, "-m", "gradkit", *argv], cwd=cwd,
                             stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    try:
        shown = _read_until(master, b"epoch=1,", timeout=timeout)
        assert b"epoch=1," in shown, shown
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=timeout)
        shown += _drain(master)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    text = shown.decode(errors="replace")
    assert child.returncode == 130, (out, text)
    assert "Traceback" not in text and "unexpected" not in text
    return out, text.replace("\r", "\n").strip().splitlines()[-1]


def test_sigint_to_a_running_fit_writes_the_model_and_the_report_and_exits_130(tmp_path):
    out, last = interrupted_fit(
        ["fit", "digits", "--model", "mlp", "--hidden", "32", "--optimizer", "adam", "--lr",
         "1e-4", "--batch-size", "16", "--epochs", "100000", "--report", "r.html", "--save",
         "m.npz"], tmp_path)
    assert last.startswith("gradkit: interrupted after ") and "epoch" in last, last
    assert "the model and the report hold the parameters so far" in last
    assert b"stopped: interrupted" in out
    # what was written is a complete model and a report that says it was interrupted
    est = models.load(tmp_path / "m.npz")
    assert (tmp_path / "m.npz.preprocess.json").exists()
    assert est.predict(np.zeros((2, est.n_features_in_))).shape == (2,)
    assert "Interrupted (Ctrl-C) after" in (tmp_path / "r.html").read_text()


def test_a_fit_that_stops_itself_on_ctrl_c_is_written_and_exits_130(gradkit, monkeypatch,
                                                                     tmp_path):
    """The estimators' own handling: ``fit`` returns with ``stop_reason_ = "interrupted"``."""
    real_fit = models.LogisticRegression.fit

    def fit_then_interrupted(self, X, y, *a, **k):
        real_fit(self, X, y, *a, **k)
        self.stop_reason_ = "interrupted"
        return self
    monkeypatch.setattr(models.LogisticRegression, "fit", fit_then_interrupted)
    status, out, err = gradkit("fit", "iris", "--save", "m.npz", "--report", "r.html")
    assert status == 130, err
    assert err.strip().splitlines()[-1].startswith("gradkit: interrupted after ")
    assert "stopped: interrupted" in out
    assert (tmp_path / "m.npz").exists() and (tmp_path / "r.html").exists()


def test_ctrl_c_before_any_parameters_exits_130_saving_nothing(gradkit, monkeypatch, tmp_path):
    def interrupted_at_once(self, X, y, *a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(models.LogisticRegression, "fit", interrupted_at_once)
    status, out, err = gradkit("fit", "iris", "--save", "m.npz", "--report", "r.html")
    assert status == 130
    assert err.strip().splitlines() == ["gradkit: interrupted before the first iteration "
                                        "ended: there is no model to save."]
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "r.html").exists()
