"""Augmentations: what each does to a batch, seeded, composable, the input left alone."""
import numpy as np
import pytest

from gradkit.data.augment import (Compose, Cutout, GaussianNoise, Mixup, RandomAffine,
                                  RandomCrop, RandomFlip, RandomShift)

ALL = [GaussianNoise(0.3), Mixup(0.4, num_classes=5), RandomShift(2, image_shape=(6, 6)),
       RandomFlip(image_shape=(6, 6)), RandomCrop(6, padding=2, image_shape=(6, 6)),
       Cutout(3, image_shape=(6, 6)),
       RandomAffine(15, 0.75, scale=(0.9, 1.1), image_shape=(6, 6))]


@pytest.mark.parametrize("aug", ALL, ids=lambda a: type(a).__name__)
def test_seeded_pure_and_shaped(aug):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 36)), rng.integers(0, 5, 20)
    X0, y0 = X.copy(), y.copy()
    a1 = aug(X, y, np.random.default_rng(7))
    a2 = aug(X, y, np.random.default_rng(7))
    np.testing.assert_array_equal(a1[0], a2[0])
    np.testing.assert_array_equal(a1[1], a2[1])
    np.testing.assert_array_equal(X, X0)  # the input is not modified
    np.testing.assert_array_equal(y, y0)
    assert a1[0].shape == X.shape
    assert not np.array_equal(aug(X, y, np.random.default_rng(8))[0], a1[0])


def test_shift_moves_the_pixels_and_fills_the_border():
    img = np.arange(25.0).reshape(1, 5, 5) + 1
    for seed in range(20):
        out = RandomShift(2)(img, None, np.random.default_rng(seed))[0][0]
        dy, dx = np.random.default_rng(seed).integers(-2, 3, size=(1, 2))[0]
        for i in range(5):
            for j in range(5):
                si, sj = i - dy, j - dx
                want = img[0, si, sj] if 0 <= si < 5 and 0 <= sj < 5 else 0.0
                assert out[i, j] == want


def test_flip_crop_cutout():
    img = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(RandomFlip(p=1.0)(img, None, np.random.default_rng(0))[0],
                                  img[..., ::-1])
    np.testing.assert_array_equal(
        RandomFlip(horizontal=False, vertical=True, p=1.0)(img, None, np.random.default_rng(0))[0],
        img[..., ::-1, :])
    np.testing.assert_array_equal(RandomFlip(p=0.0)(img, None, np.random.default_rng(0))[0], img)
    crops = RandomCrop(2)(np.repeat(img, 50, axis=0), None, np.random.default_rng(0))[0]
    assert crops.shape == (50, 1, 2, 2)
    for c in crops:  # every crop is a contiguous window of the image
        t, s = divmod(int(c[0, 0, 0]), 4)
        np.testing.assert_array_equal(c[0], img[0, 0, t:t + 2, s:s + 2])
    out = Cutout(2)(np.ones((200, 4, 4)), None, np.random.default_rng(0))[0]
    zeros = (out == 0).sum(axis=(1, 2))
    assert zeros.min() >= 1 and zeros.max() == 4  # clipped at the border, full inside
    with pytest.raises(ValueError, match="larger"):
        RandomCrop(5)(img, None, np.random.default_rng(0))


def test_mixup_mixes_inputs_and_labels_alike():
    rng = np.random.default_rng(1)
    X = np.eye(4)[rng.integers(0, 4, 100)]
    y = X.argmax(1)
    Xa, ya = Mixup(0.5, num_classes=4)(X, y, np.random.default_rng(2))
    np.testing.assert_allclose(Xa, ya)  # X is the one-hot of y, so the mixtures agree
    np.testing.assert_allclose(ya.sum(1), 1.0)
    Xb, yb = Mixup(0.5)(X, X, np.random.default_rng(2))  # probabilities are mixed as given
    np.testing.assert_allclose(yb, ya)
    with pytest.raises(ValueError, match="num_classes"):
        Mixup(0.5)(X, y, np.random.default_rng(0))


def test_compose_and_noise_statistics():
    X = np.zeros((4000, 8, 8))
    Xa, _ = Compose(GaussianNoise(0.2), RandomFlip())(X, None, np.random.default_rng(0))
    assert abs(Xa.std() - 0.2) < 0.005
    with pytest.raises(TypeError, match="Generator"):
        GaussianNoise(0.1)(X, None, 0)
    with pytest.raises(ValueError, match="image"):
        RandomShift(1)(np.zeros((3, 64)), None, np.random.default_rng(0))


def test_affine_turns_moves_and_scales_like_the_definitions():
    rng = np.random.default_rng(0)
    img = rng.random((3, 2, 5, 5))  # (N, C, H, W): every channel moves alike
    same = RandomAffine()(img, None, np.random.default_rng(0))[0]
    np.testing.assert_allclose(same, img, atol=1e-12)
    turned = RandomAffine(degrees=(90, 90))(img, None, np.random.default_rng(0))[0]
    np.testing.assert_allclose(turned, np.rot90(img, 1, axes=(-2, -1)), atol=1e-12)
    # a whole-pixel move is RandomShift's, the border filled
    moved = RandomAffine(translate=(1, 1))(img, None, np.random.default_rng(0))[0]
    np.testing.assert_allclose(moved[..., 1:, 1:], img[..., :-1, :-1], atol=1e-12)
    assert np.all(moved[..., 0, :] == 0) and np.all(moved[..., :, 0] == 0)
    # read half a pixel to the left: each pixel the mean of its two neighbours on the row
    X = rng.random((1, 4, 4))
    rows, cols = np.mgrid[0:4, 0:4].astype(float)
    from gradkit.data.augment import _bilinear
    got = _bilinear(X, rows[None], cols[None] - 0.5, 0.0)[0]
    want = 0.5 * (X[0] + np.c_[np.zeros(4), X[0][:, :-1]])
    np.testing.assert_allclose(got, want, atol=1e-12)
    # a scale of 2 about the centre reads the image at half the distance from it
    big = RandomAffine(scale=(2, 2))(X, None, np.random.default_rng(0))[0][0]
    np.testing.assert_allclose(big[0, 0], _bilinear(X, np.array([[[0.75]]]),
                                                    np.array([[[0.75]]]), 0.0)[0, 0, 0])
    # far outside reads the fill
    away = RandomAffine(translate=(9, 9), fill=-1.0)(X, None, np.random.default_rng(0))[0]
    assert np.all(away == -1.0)


def test_affine_draws_its_amounts_in_the_ranges():
    img = np.zeros((400, 9, 9))
    img[:, 4, 6] = 1.0  # two pixels right of the centre
    out = RandomAffine(degrees=20)(img, None, np.random.default_rng(0))[0]
    peak = np.array([np.unravel_index(o.argmax(), o.shape) for o in out]) - 4
    angle = np.degrees(np.arctan2(-peak[:, 0], peak[:, 1]))  # counter-clockwise as seen
    assert np.all(np.abs(angle) <= 20 + 27)  # the peak pixel is within a pixel's angle
    assert angle.min() < -10 and angle.max() > 10


@pytest.mark.parametrize("settings, message", [
    (dict(degrees=-1), r"RandomAffine\(degrees\) must be a number >= 0"),
    (dict(translate=(1, 0)), r"RandomAffine\(translate\) must be a number >= 0"),
    (dict(scale=(1.2, 1.1)), r"RandomAffine\(scale\) must be \(low, high\)"),
    (dict(scale=(0, 1)), r"RandomAffine\(scale\) must be \(low, high\)"),
])
def test_affine_refuses_bad_ranges(settings, message):
    with pytest.raises(ValueError, match=message):
        RandomAffine(**settings)
