"""Hostile model files: every refusal is one ModelFileError naming the file, decided from the
declared sizes and headers before anything large is decompressed or allocated."""
import io
import json
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_iris

from gradkit.models import LogisticRegression, MLPClassifier, ModelFileError, load

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, Y = load_iris(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)


def _entries(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _write(path, entries):
    with open(path, "wb") as f:
        np.savez(f, **entries)


def _npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.npz"
    LogisticRegression(max_iter=20).fit(X, Y).save(path)
    return path


def _peak_of_load(path):
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="model.npz"):
            load(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gigabyte_of_compressed_zeros_is_refused_before_it_is_inflated(saved):
    """1 MB on disk declaring 1 GiB: refused from the central directory, nothing inflated."""
    entries = _entries(saved)
    with zipfile.ZipFile(saved, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, a in entries.items():
            if name != "params/coef":
                zf.writestr(name + ".npy", _npy(a))
        with zf.open("params/coef.npy", "w", force_zip64=True) as member:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f8", "fortran_order": False, "shape": (2 ** 27,)})
            member.write(header.getvalue())
            zeros = bytes(2 ** 24)
            for _ in range(64):
                member.write(zeros)
    assert saved.stat().st_size < 2 * 2 ** 20
    assert _peak_of_load(saved) < 16 * 2 ** 20


def _replace_member(path, name, payload):
    entries = _entries(path)
    with zipfile.ZipFile(path, "w") as zf:
        for key, a in entries.items():
            zf.writestr(key + ".npy", payload if key == name else _npy(a))


def test_a_huge_declared_shape_is_refused_without_allocating(saved):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2 ** 40, 3)})
    _replace_member(saved, "params/coef", header.getvalue() + bytes(96))
    assert _peak_of_load(saved) < 16 * 2 ** 20


def test_deeply_nested_metadata_is_refused(saved):
    entries = _entries(saved)
    meta = json.loads(str(entries["__gradkit__"]))
    deep = "[" * 100_000 + "]" * 100_000
    entries["__gradkit__"] = np.array(json.dumps(meta)[:-1] + ', "extra": ' + deep + "}")
    _write(saved, entries)
    with pytest.raises(ModelFileError, match="nested deeper"):
        load(saved)


def test_a_npy_file_renamed_npz_is_named(saved):
    np.save(saved.with_suffix(".npy"), np.ones(3))
    saved.with_suffix(".npy").replace(saved)
    with pytest.raises(ModelFileError, match=r"model.npz.*single \.npy array"):
        load(saved)


def test_nan_coefficients_are_refused(saved):
    entries = _entries(saved)
    entries["params/coef"][0, 0] = np.nan
    _write(saved, entries)
    with pytest.raises(ModelFileError, match="'params/coef' holds NaN"):
        load(saved)


@pytest.mark.parametrize("coef", [np.zeros((3, 3)), np.zeros((4, 3, 1)),
                                  np.array([["a", "b", "c"]] * 4), np.zeros((4, 3), int)],
                         ids=["wrong-shape", "extra-axis", "text", "integers"])
def test_a_coefficient_of_the_wrong_shape_or_dtype_is_refused(saved, coef):
    entries = _entries(saved)
    entries["params/coef"] = coef
    _write(saved, entries)
    with pytest.raises(ModelFileError, match="'params/coef' has (shape|dtype)"):
        load(saved)


def test_settings_that_declare_a_huge_network_are_refused_before_it_is_built(tmp_path):
    path = tmp_path / "model.npz"
    MLPClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, Y).save(path)
    entries = _entries(path)
    meta = json.loads(str(entries["__gradkit__"]))
    meta["settings"]["hidden_layer_sizes"] = {"__tuple__": [10 ** 8]}
    entries["__gradkit__"] = np.array(json.dumps(meta))
    _write(path, entries)
    assert _peak_of_load(path) < 16 * 2 ** 20


def test_an_unexpected_entry_is_refused(saved):
    entries = _entries(saved)
    entries["params/extra"] = np.zeros(3)
    _write(saved, entries)
    with pytest.raises(ModelFileError, match="params/extra"):
        load(saved)


def _mutations(data, rng):
    """Random damage: truncation, bit flips, random bytes, and oversized declarations (a
    size field of the zip's directory or a .npy shape made huge)."""
    kind = rng.integers(5)
    b = bytearray(data)
    if kind == 0:
        return bytes(b[: rng.integers(len(b))])
    if kind == 1:
        for i in rng.integers(len(b), size=rng.integers(1, 9)):
            b[i] ^= 1 << int(rng.integers(8))
        return bytes(b)
    if kind == 2:
        start = int(rng.integers(len(b)))
        chunk = len(b[start:start + 16])
        b[start:start + 16] = rng.integers(256, size=chunk, dtype=np.uint8).tobytes()
        return bytes(b)
    if kind == 3:  # a central-directory entry's sizes (offsets 20 and 24) set to ~4 GB
        offsets = [i for i in range(len(b) - 4) if b[i:i + 4] == b"PK\x01\x02"]
        at = offsets[rng.integers(len(offsets))] + (20 if rng.integers(2) else 24)
        b[at:at + 4] = (0xFFFFFFF0 - int(rng.integers(1000))).to_bytes(4, "little")
        return bytes(b)
    starts = [i for i in range(len(b) - 8) if b[i:i + 8] == b"'shape':"]
    at = starts[rng.integers(len(starts))] + 10
    digits = str(int(rng.integers(10 ** 9, 10 ** 12))).encode()
    b[at:at + len(digits)] = digits
    return bytes(b)


@pytest.mark.parametrize("model", [LogisticRegression(optimizer="adam", max_iter=3),
                                   MLPClassifier(hidden_layer_sizes=(5,), batch_norm=True,
                                                 max_iter=3)],
                         ids=["logistic-adam", "mlp-batchnorm"])
def test_fuzzed_model_files_raise_only_model_file_error_with_bounded_memory(model, tmp_path):
    path = tmp_path / "model.npz"
    model.set_params(random_state=0).fit(X, Y).save(path)
    data = path.read_bytes()
    rng = np.random.default_rng(16)
    deadline = time.monotonic() + 30
    tracemalloc.start()
    try:
        for trial in range(300):
            if time.monotonic() > deadline:
                break
            path.write_bytes(_mutations(data, rng))
            tracemalloc.reset_peak()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    load(path)
            except ModelFileError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc)
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < 8 * 2 ** 20 + 64 * len(data), (trial, peak)
    finally:
        tracemalloc.stop()
    assert trial > 50


def test_a_long_history_is_thinned_in_the_file(tmp_path, monkeypatch):
    """The file keeps at most MAX_SAVED_HISTORY steps: its size does not grow with training."""
    from gradkit.models import persistence

    monkeypatch.setattr(persistence, "MAX_SAVED_HISTORY", 50)
    model = LogisticRegression(optimizer="sgd", batch_size=1, max_iter=2).fit(X, Y)
    n = len(model.history_["step"])
    assert n > 200
    path = tmp_path / "model.npz"
    model.save(path)
    again = load(path)
    steps = again.history_["step"]
    assert 50 <= len(steps) <= 51 and steps[0] == 1 and steps[-1] == model.history_["step"][-1]
    assert min(again.history_["loss"]) == min(model.history_["loss"])
    for layer, norms in again.history_["grad_norm"].items():
        assert len(norms) == len(steps)
    assert again.loss_curve_ == model.loss_curve_


def test_an_archive_of_too_many_entries_is_refused_from_its_end_record(tmp_path):
    path = tmp_path / "model.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(20_000):
            zf.writestr(f"e{i}.npy", b"")
    assert _peak_of_load(path) < 2 * 2 ** 20
