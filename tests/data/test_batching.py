"""Batching: full batch, stochastic and mini-batch epochs; validation splits."""
import numpy as np
import pytest

from gradkit.data import batches, train_validation_split

X = np.arange(23 * 2, dtype=float).reshape(23, 2)
y = np.arange(23)


@pytest.mark.parametrize("batch_size,sizes", [
    (None, [23]), (1, [1] * 23), (5, [5, 5, 5, 5, 3]), (23, [23]), (22, [22, 1]),
])
@pytest.mark.parametrize("shuffle", [True, False])
def test_an_epoch_covers_every_sample_once(batch_size, sizes, shuffle):
    got = list(batches(X, y, batch_size, rng=np.random.default_rng(0), shuffle=shuffle))
    assert [len(yb) for _, yb in got] == sizes
    seen = np.concatenate([yb for _, yb in got])
    assert sorted(seen.tolist()) == list(range(23))
    for xb, yb in got:  # rows stay paired with their targets
        np.testing.assert_array_equal(xb, X[yb])


def test_each_epoch_draws_a_new_permutation_from_the_generator():
    rng = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in batches(X, y, 4, rng=rng)])
    second = np.concatenate([yb for _, yb in batches(X, y, 4, rng=rng)])
    assert first.tolist() != second.tolist() and sorted(first) == sorted(second)
    unshuffled = np.concatenate([yb for _, yb in batches(X, y, 4, shuffle=False)])
    assert unshuffled.tolist() == list(range(23))


def test_drop_last_and_missing_targets():
    got = list(batches(X, None, 5, rng=0, drop_last=True))
    assert [len(xb) for xb, _ in got] == [5, 5, 5, 5] and all(yb is None for _, yb in got)


@pytest.mark.parametrize("batch_size", [0, -1, 24, 2.5, "8", True])
def test_invalid_batch_sizes_are_rejected_with_the_valid_range(batch_size):
    with pytest.raises(ValueError, match="1 <= k <= n_samples = 23"):
        list(batches(X, y, batch_size))


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="same number of samples"):
        list(batches(X, y[:-1], 4))


@pytest.mark.parametrize("fraction,n_val", [(0.1, 3), (0.25, 6), (0.5, 12)])
def test_validation_split_sizes_and_disjointness(fraction, n_val):
    X_tr, X_val, y_tr, y_val = train_validation_split(X, y, fraction, rng=0)
    assert len(y_val) == n_val and len(y_tr) == 23 - n_val
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(23))
    np.testing.assert_array_equal(X_val, X[y_val])


def test_stratified_split_keeps_class_proportions():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    Xs = np.arange(100.0)[:, None]
    _, _, y_tr, y_val = train_validation_split(Xs, labels, 0.2, rng=1, stratify=labels)
    assert np.bincount(y_val).tolist() == [12, 6, 2]
    assert np.bincount(y_tr).tolist() == [48, 24, 8]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 0.999])
def test_bad_validation_fractions_are_rejected(fraction):
    with pytest.raises(ValueError, match="validation_fraction"):
        train_validation_split(X, y, fraction, rng=0)


@pytest.mark.parametrize("layout", ["C", "F", "strided 3-D"])
def test_shuffled_batches_are_the_rows_of_the_permutation_in_every_layout(layout):
    """Shuffled batches are ``X[order[i:i + k]]`` whatever the layout: C-contiguous arrays
    are gathered by ``take`` (faster), others by indexing; values and memory layout agree."""
    base = np.arange(7 * 6, dtype=float).reshape(7, 6)
    X = {"C": base, "F": np.asfortranarray(base),
         "strided 3-D": base.reshape(7, 3, 2).transpose(0, 2, 1)}[layout]
    y = np.arange(7.0)
    order = np.random.default_rng(5).permutation(7)
    got = list(batches(X, y, 3, rng=np.random.default_rng(5)))
    assert [len(yb) for _, yb in got] == [3, 3, 1]
    for i, (xb, yb) in enumerate(got):
        want = X[order[3 * i:3 * i + 3]]
        assert np.array_equal(xb, want) and xb.strides == want.strides
        assert np.array_equal(yb, y[order[3 * i:3 * i + 3]])


@pytest.mark.parametrize("gather_bytes", [1, 200, 1 << 20])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_gathered_several_at_once_are_the_rows_of_the_permutation(
        monkeypatch, gather_bytes, drop_last):
    """C-contiguous rows are gathered for several batches at once (about _GATHER_BYTES) and
    each batch is a slice of the gather: the same rows, values and strides as one gather per
    batch, whatever the span (one batch, a few, the whole epoch), and X is never written."""
    import gradkit.data.batching as batching
    monkeypatch.setattr(batching, "_GATHER_BYTES", gather_bytes)
    X = np.arange(23 * 4, dtype=float).reshape(23, 4)
    y = np.arange(23.0).reshape(23, 1)
    before = X.copy()
    order = np.random.default_rng(7).permutation(23)
    got = list(batches(X, y, 5, rng=np.random.default_rng(7), drop_last=drop_last))
    assert [len(yb) for _, yb in got] == ([5] * 4 if drop_last else [5] * 4 + [3])
    for i, (xb, yb) in enumerate(got):
        want = X.take(order[5 * i:5 * i + 5], axis=0)
        assert np.array_equal(xb, want) and xb.strides == want.strides and xb.flags.c_contiguous
        assert np.array_equal(yb, y[order[5 * i:5 * i + 5]])
        xb += 1.0  # writing a batch changes neither X nor the other batches
    assert np.array_equal(X, before)
    for i, (xb, _) in enumerate(got):
        assert np.array_equal(xb, X.take(order[5 * i:5 * i + 5], axis=0) + 1.0)
