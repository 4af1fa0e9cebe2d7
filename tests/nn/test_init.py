"""Initializers: each draws weights with the variance of its formula and the right support."""
import numpy as np
import pytest

from gradkit.nn import init

# name, shape, expected variance, uniform bound (None for normal)
CASES = [
    ("glorot_uniform", (300, 200), 2 / 500, np.sqrt(6 / 500)),
    ("glorot_normal", (300, 200), 2 / 500, None),
    ("xavier_uniform", (64, 32, 3, 3), 2 / (32 * 9 + 64 * 9), np.sqrt(6 / (32 * 9 + 64 * 9))),
    ("xavier_normal", (200, 300), 2 / 500, None),
    ("he_uniform", (300, 200), 2 / 300, np.sqrt(6 / 300)),
    ("he_normal", (300, 200), 2 / 300, None),
    ("kaiming_normal", (64, 16, 3, 3), 2 / 144, None),
    ("kaiming_uniform", (64, 16, 3, 3), 2 / 144, np.sqrt(6 / 144)),
    ("lecun_uniform", (300, 200), 1 / 300, np.sqrt(3 / 300)),
    ("lecun_normal", (300, 200), 1 / 300, None),
]


@pytest.mark.parametrize("name,shape,variance,bound", CASES)
def test_variance_matches_the_formula(name, shape, variance, bound):
    w = init.get_initializer(name)(np.random.default_rng(0), shape)
    n = w.size
    # the sample variance has relative standard error sqrt(2 / n) (normal) or less (uniform)
    assert abs(w.var() / variance - 1) < 5 * np.sqrt(2 / n)
    assert abs(w.mean()) < 5 * np.sqrt(variance / n)
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    else:
        kurtosis = np.mean((w - w.mean()) ** 4) / w.var() ** 2
        assert abs(kurtosis - 3.0) < 0.15  # a normal, not a uniform (1.8)


@pytest.mark.parametrize("shape,fans", [((5,), (5, 5)), ((3, 7), (3, 7)),
                                        ((16, 4, 3, 3), (36, 144)), ((8, 2, 5), (10, 40))])
def test_fans_follow_linear_and_conv_layouts(shape, fans):
    assert init.fans(shape) == fans


@pytest.mark.parametrize("shape", [(4, 9), (9, 4), (6, 2, 3, 3), (5, 5)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = init.orthogonal(np.random.default_rng(0), shape)
    m = w.reshape(shape[0], -1)
    small = min(m.shape)
    gram = m @ m.T if m.shape[0] == small else m.T @ m
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_every_initializer_keeps_the_requested_dtype(name):
    w = init.INITIALIZERS[name](np.random.default_rng(0), (4, 3), np.float32)
    assert w.dtype == np.float32 and w.shape == (4, 3)


def test_zeros_and_seeds():
    assert not init.zeros(None, (3, 2)).any()
    a = init.he_normal(np.random.default_rng(1), (3, 3))
    np.testing.assert_array_equal(a, init.he_normal(np.random.default_rng(1), (3, 3)))


@pytest.mark.parametrize("arg,error,match", [
    ("glorot", ValueError, "glorot_normal, glorot_uniform"),
    (3, TypeError, "name or a function"),
])
def test_get_initializer_errors_list_the_choices(arg, error, match):
    with pytest.raises(error, match=match):
        init.get_initializer(arg)


def test_get_initializer_passes_callables_through():
    f = lambda rng, shape, dtype=np.float64: np.full(shape, 7.0, dtype)
    assert init.get_initializer(f) is f
