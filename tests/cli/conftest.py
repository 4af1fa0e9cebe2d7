"""Fixtures for the command-line tests: run ``gradkit`` in-process and small hostile CSVs."""
import numpy as np
import pandas as pd
import pytest

from gradkit.cli import main

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def gradkit(tmp_path, monkeypatch, capsys):
    """``gradkit(*argv) -> (status, stdout, stderr)``, run in a fresh directory."""
    monkeypatch.chdir(tmp_path)

    def run(*argv):
        status = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return status, out, err
    return run


@pytest.fixture
def mixed_csv(tmp_path):
    """A CSV with numeric and text columns, missing cells, a hostile header and hostile
    category values; the target depends on the features."""
    rng = np.random.default_rng(0)
    n = 120
    size = rng.normal(size=n)
    colour = rng.choice(["red", "blue", "<img src=x onerror=alert(2)>"], size=n)
    flag = rng.choice([True, False], size=n)
    label = np.where(size + (colour == "red") > 0.3, "yes", "no & <b>")
    frame = pd.DataFrame({"size": size, HOSTILE: rng.normal(size=n), "colour": colour,
                          "flag": flag, "label": label})
    frame.loc[[3, 7], "size"] = np.nan
    frame.loc[5, "colour"] = None
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path
