r"""Data augmentation for any training loop: ``augment(X, y, rng) -> (X, y)``.

Every augmentation is a small object called on one batch with a
:class:`numpy.random.Generator` (so a run is reproducible from its seed), returning new
arrays (the input is never modified). :class:`Compose` chains them. Image augmentations
work on the last two axes ``(H, W)`` of ``X`` (``(N, H, W)`` or ``(N, C, H, W)``), or on
flat rows given ``image_shape`` (digits: ``(8, 8)``).

- :class:`GaussianNoise`: :math:`x + \sigma \varepsilon`, :math:`\varepsilon \sim N(0, I)`.
- :class:`Mixup` (Zhang et al., "mixup: Beyond empirical risk minimization", ICLR 2018):
  :math:`\tilde x_i = \lambda_i x_i + (1 - \lambda_i) x_{\pi(i)}`,
  :math:`\tilde y_i = \lambda_i y_i + (1 - \lambda_i) y_{\pi(i)}` with one-hot labels,
  :math:`\lambda_i \sim \mathrm{Beta}(\alpha, \alpha)` per example and :math:`\pi` a random
  permutation of the batch; the labels become class probabilities (a loss that takes them,
  such as ``gradkit.nn.losses.cross_entropy``, is needed).
- :class:`RandomShift`: each image moved by integers :math:`(d_y, d_x)`, uniform in
  :math:`[-s, s]`, the uncovered border filled with ``fill``.
- :class:`RandomFlip`: left-right (and / or up-down) mirror, each image with probability p.
- :class:`RandomCrop`: a random ``size`` window of each image (after optional zero
  ``padding``), so the output is ``size``.
- :class:`RandomAffine`: each image rotated by :math:`\theta`, scaled by :math:`s` and moved
  by :math:`(t_y, t_x)` about its centre, all drawn uniformly per image, read by bilinear
  interpolation, so shifts and rotations may be fractions of a pixel (what small images such
  as digits' 8 x 8 need: a whole-pixel shift is an eighth of the image).
- :class:`Cutout` (DeVries & Taylor, "Improved regularization of convolutional neural
  networks with cutout", 2017): a ``size`` x ``size`` square at a uniform centre (clipped at
  the border) set to ``fill``.

>>> import numpy as np
>>> aug = Compose(RandomShift(1, image_shape=(8, 8)), GaussianNoise(0.1))
>>> X, y = np.ones((4, 64)), np.arange(4)
>>> Xa, ya = aug(X, y, np.random.default_rng(0))
>>> Xa.shape, bool(np.array_equal(ya, y))
((4, 64), True)
"""
from __future__ import annotations

import numpy as np

__all__ = ["Compose", "GaussianNoise", "Mixup", "RandomShift", "RandomFlip", "RandomCrop",
           "RandomAffine", "Cutout"]


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"augmentations take a numpy.random.Generator (np.random.default_rng("
                        f"seed)), got {type(rng).__name__}.")


class _Image:
    """The (N, ..., H, W) view of a batch, and the way back to its layout."""

    def __init__(self, image_shape):
        self.image_shape = None if image_shape is None else tuple(int(s) for s in image_shape)

    def _images(self, X):
        X = np.asarray(X)
        if self.image_shape is not None:
            return X.reshape((X.shape[0],) + self.image_shape), X.shape
        if X.ndim < 3:
            raise ValueError(f"{type(self).__name__} needs image batches (N, H, W) or "
                             f"(N, C, H, W), or image_shape= for flat rows; got shape "
                             f"{X.shape}.")
        return X, None

    def _back(self, images, flat_shape):
        return images.reshape(images.shape[0], -1) if flat_shape is not None else images


class Compose:
    """Apply augmentations in order, each with the same generator.

    Args:
        *augmentations: callables ``aug(X, y, rng) -> (X, y)``.

    Examples:
        >>> import numpy as np
        >>> Compose(GaussianNoise(0.0))(np.ones((2, 3)), None, np.random.default_rng(0))[0]
        array([[1., 1., 1.],
               [1., 1., 1.]])
    """

    def __init__(self, *augmentations):
        for a in augmentations:
            if not callable(a):
                raise TypeError(f"Compose takes augmentations aug(X, y, rng) -> (X, y); got "
                                f"{type(a).__name__}.")
        self.augmentations = augmentations

    def __call__(self, X, y, rng):
        _check_rng(rng)
        for a in self.augmentations:
            X, y = a(X, y, rng)
        return X, y

    def __repr__(self):
        return f"Compose({', '.join(map(repr, self.augmentations))})"


class GaussianNoise:
    r"""Add :math:`\sigma \varepsilon`, :math:`\varepsilon \sim N(0, I)`, to every input.

    Args:
        std: :math:`\sigma` (>= 0).

    Examples:
        >>> import numpy as np
        >>> Xa, _ = GaussianNoise(0.5)(np.zeros((1000, 2)), None, np.random.default_rng(0))
        >>> bool(abs(Xa.std() - 0.5) < 0.02)
        True
    """

    def __init__(self, std):
        if not std >= 0:
            raise ValueError(f"GaussianNoise(std) must be >= 0, got {std!r}.")
        self.std = float(std)

    def __call__(self, X, y, rng):
        _check_rng(rng)
        X = np.asarray(X, dtype=float)
        return X + self.std * rng.standard_normal(X.shape), y

    def __repr__(self):
        return f"GaussianNoise({self.std})"


class Mixup:
    r"""Mix each example with a random partner: inputs and one-hot labels, weight
    :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` per example (module docstring).

    Integer labels need ``num_classes`` (a batch may miss a class); labels already given as
    probabilities (N, k) are mixed as they are. The returned labels are (N, k) probabilities.

    Args:
        alpha: the Beta distribution's :math:`\alpha` (> 0; small values mix little).
        num_classes: the number of classes, for integer labels.

    Examples:
        >>> import numpy as np
        >>> Xa, ya = Mixup(0.4, num_classes=3)(np.eye(3), np.array([0, 1, 2]),
        ...                                    np.random.default_rng(0))
        >>> ya.shape, np.allclose(ya.sum(1), 1), np.allclose(Xa, ya)   # x = onehot: x~ = y~
        ((3, 3), True, True)
    """

    def __init__(self, alpha=0.2, num_classes=None):
        if not alpha > 0:
            raise ValueError(f"Mixup(alpha) must be > 0, got {alpha!r}.")
        self.alpha, self.num_classes = float(alpha), num_classes

    def __call__(self, X, y, rng):
        _check_rng(rng)
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if y.ndim == 1:
            if self.num_classes is None:
                raise ValueError("Mixup with integer labels needs num_classes= (a batch may "
                                 "not contain every class).")
            Y = np.eye(self.num_classes)[y.astype(int)]
        else:
            Y = y.astype(float)
        n = X.shape[0]
        lam = rng.beta(self.alpha, self.alpha, size=n)
        perm = rng.permutation(n)
        lx = lam.reshape((n,) + (1,) * (X.ndim - 1))
        return lx * X + (1 - lx) * X[perm], lam[:, None] * Y + (1 - lam[:, None]) * Y[perm]

    def __repr__(self):
        return f"Mixup(alpha={self.alpha}, num_classes={self.num_classes})"


def _shifted(img, dy, dx, fill):
    """img moved down by dy and right by dx (integers), the uncovered part = fill."""
    out = np.full_like(img, fill)
    H, W = img.shape[-2:]
    ys, yd = (slice(0, H - dy), slice(dy, H)) if dy >= 0 else (slice(-dy, H), slice(0, H + dy))
    xs, xd = (slice(0, W - dx), slice(dx, W)) if dx >= 0 else (slice(-dx, W), slice(0, W + dx))
    out[..., yd, xd] = img[..., ys, xs]
    return out


class RandomShift(_Image):
    r"""Move each image by integers :math:`(d_y, d_x)` uniform in ``[-max_shift, max_shift]``;
    the uncovered border is ``fill``.

    Args:
        max_shift: the largest shift, in pixels (an int >= 0).
        image_shape: ``(H, W)`` of flat rows (digits: ``(8, 8)``); None for image batches.
        fill: the value of the uncovered border.

    Examples:
        >>> import numpy as np
        >>> img = np.arange(9.0).reshape(1, 3, 3)
        >>> RandomShift(1)(img, None, np.random.default_rng(3))[0][0]
        array([[0., 0., 0.],
               [1., 2., 0.],
               [4., 5., 0.]])
    """

    def __init__(self, max_shift=1, image_shape=None, fill=0.0):
        super().__init__(image_shape)
        if not (isinstance(max_shift, int) and max_shift >= 0):
            raise ValueError(f"RandomShift(max_shift) must be an int >= 0, got {max_shift!r}.")
        self.max_shift, self.fill = max_shift, fill

    def __call__(self, X, y, rng):
        _check_rng(rng)
        imgs, flat = self._images(X)
        d = rng.integers(-self.max_shift, self.max_shift + 1, size=(imgs.shape[0], 2))
        out = np.stack([_shifted(im, int(a), int(b), self.fill) for im, (a, b) in zip(imgs, d)])
        return self._back(out, flat), y

    def __repr__(self):
        return f"RandomShift({self.max_shift}, image_shape={self.image_shape})"


class RandomFlip(_Image):
    """Mirror each image left-right (``horizontal``) and / or up-down (``vertical``), each
    with probability ``p``, independently per image.

    Args:
        horizontal: mirror left-right.
        vertical: mirror up-down.
        p: the probability of each flip, per image.
        image_shape: ``(H, W)`` of flat rows (digits: ``(8, 8)``); None for image batches.

    Examples:
        >>> import numpy as np
        >>> img = np.arange(4.0).reshape(1, 2, 2)
        >>> RandomFlip(p=1.0)(img, None, np.random.default_rng(0))[0][0]
        array([[1., 0.],
               [3., 2.]])
    """

    def __init__(self, horizontal=True, vertical=False, p=0.5, image_shape=None):
        super().__init__(image_shape)
        if not 0 <= p <= 1:
            raise ValueError(f"RandomFlip(p) must be in [0, 1], got {p!r}.")
        self.horizontal, self.vertical, self.p = horizontal, vertical, float(p)

    def __call__(self, X, y, rng):
        _check_rng(rng)
        imgs, flat = self._images(X)
        out = np.array(imgs, dtype=float, copy=True)
        n = imgs.shape[0]
        if self.horizontal:
            h = rng.random(n) < self.p
            out[h] = out[h][..., ::-1]
        if self.vertical:
            v = rng.random(n) < self.p
            out[v] = out[v][..., ::-1, :]
        return self._back(out, flat), y

    def __repr__(self):
        return (f"RandomFlip(horizontal={self.horizontal}, vertical={self.vertical}, "
                f"p={self.p})")


class RandomCrop(_Image):
    """A random ``size = (h, w)`` window of each image, after zero ``padding`` on every side;
    ``size`` equal to the image size with ``padding`` > 0 is the usual pad-and-crop.

    Args:
        size: the window ``(h, w)``, or one int for a square.
        padding: zeros added on every side first (an int >= 0).
        image_shape: ``(H, W)`` of flat rows (digits: ``(8, 8)``); None for image batches.

    Examples:
        >>> import numpy as np
        >>> Xa, _ = RandomCrop((2, 2))(np.ones((5, 3, 4, 4)), None, np.random.default_rng(0))
        >>> Xa.shape
        (5, 3, 2, 2)
    """

    def __init__(self, size, padding=0, image_shape=None):
        super().__init__(image_shape)
        self.size = (int(size), int(size)) if np.isscalar(size) else tuple(map(int, size))
        if not (isinstance(padding, int) and padding >= 0):
            raise ValueError(f"RandomCrop(padding) must be an int >= 0, got {padding!r}.")
        self.padding = padding

    def __call__(self, X, y, rng):
        _check_rng(rng)
        imgs, flat = self._images(X)
        p = self.padding
        if p:
            imgs = np.pad(imgs, [(0, 0)] * (imgs.ndim - 2) + [(p, p), (p, p)])
        H, W = imgs.shape[-2:]
        h, w = self.size
        if h > H or w > W:
            raise ValueError(f"RandomCrop size {self.size} is larger than the (padded) images "
                             f"({H}, {W}).")
        top = rng.integers(0, H - h + 1, size=imgs.shape[0])
        left = rng.integers(0, W - w + 1, size=imgs.shape[0])
        out = np.stack([im[..., t:t + h, s:s + w] for im, t, s in zip(imgs, top, left)])
        return self._back(out, flat), y

    def __repr__(self):
        return f"RandomCrop({self.size}, padding={self.padding})"


def _bilinear(imgs, rows, cols, fill):
    """``imgs`` (N, ..., H, W) read at real coordinates ``rows``, ``cols`` (N, H, W) by
    bilinear interpolation; a neighbour outside the image counts as ``fill``."""
    H, W = imgs.shape[-2:]
    padded = np.pad(np.asarray(imgs, dtype=float), [(0, 0)] * (imgs.ndim - 2) + [(1, 1)] * 2,
                    constant_values=fill)
    # 1 pixel of fill around the image: a coordinate in (-1, H) reads its two neighbours
    # there; one further out is clamped onto the fill border
    r = np.clip(rows + 1.0, 0.0, H + 1.0)
    c = np.clip(cols + 1.0, 0.0, W + 1.0)
    r0 = np.minimum(np.floor(r).astype(int), H)
    c0 = np.minimum(np.floor(c).astype(int), W)
    fr, fc = r - r0, c - c0
    n = np.arange(imgs.shape[0])[:, None, None]
    lead = padded.ndim - 3  # channel axes between N and (H, W): read with (H, W) first
    moved = np.moveaxis(padded, (-2, -1), (1, 2))  # (N, H+2, W+2, ...)
    w = [((1 - fr) * (1 - fc), r0, c0), ((1 - fr) * fc, r0, c0 + 1),
         (fr * (1 - fc), r0 + 1, c0), (fr * fc, r0 + 1, c0 + 1)]
    out = sum(wt.reshape(wt.shape + (1,) * lead) * moved[n, i, j] for wt, i, j in w)
    return np.moveaxis(out, (1, 2), (-2, -1))


class RandomAffine(_Image):
    r"""Rotate, scale and move each image about its centre by amounts drawn per image, read
    back by bilinear interpolation (torchvision's ``RandomAffine``, with bilinear instead of
    its default nearest-neighbour reading, and ``translate`` in pixels).

    For an output pixel :math:`p` (row, column) and the centre :math:`c`, the value is the
    input's at :math:`c + \frac1s R(-\theta)(p - c - t)`: the image turned by :math:`\theta`
    (degrees, counter-clockwise as seen), scaled by :math:`s` and moved by :math:`t`, with
    :math:`\theta \sim U[-\mathrm{degrees}, \mathrm{degrees}]`,
    :math:`t_y, t_x \sim U[-\mathrm{translate}, \mathrm{translate}]` and
    :math:`s \sim U[\mathrm{scale}]`. Input pixels outside the image read as ``fill``.

    Args:
        degrees: the largest rotation d >= 0 (angles uniform in [-d, d]), or a range
            ``(low, high)``.
        translate: the largest move m >= 0 along each axis, in pixels (moves uniform in
            [-m, m]; a fraction is a sub-pixel move), or a range ``(low, high)`` for both
            axes (unlike torchvision's fractions of the image, one per axis).
        scale: ``(low, high)``, the range of the scale factor, 0 < low <= high; None: 1.
        fill: the value outside the image.
        image_shape: ``(H, W)`` for flat rows (digits: ``(8, 8)``).

    Examples:
        >>> import numpy as np
        >>> img = np.zeros((1, 5, 5)); img[0, 2, 3] = 1.0
        >>> out = RandomAffine(degrees=(90, 90))(img, None, np.random.default_rng(0))[0][0]
        >>> np.argwhere(out > 0.5).tolist()      # a quarter turn: right of centre -> above
        [[1, 2]]
        >>> half = RandomAffine(0, translate=(0.5, 0.5))  # half-pixel moves blend neighbours
        >>> bool(half(img, None, np.random.default_rng(0))[0].max() < 1.0)
        True
    """

    def __init__(self, degrees=0.0, translate=0.0, scale=None, fill=0.0, image_shape=None):
        super().__init__(image_shape)
        self.degrees = _symmetric_range("degrees", degrees)
        self.translate = _symmetric_range("translate", translate)
        if scale is not None and not (len(scale) == 2 and 0 < scale[0] <= scale[1]):
            raise ValueError(f"RandomAffine(scale) must be (low, high) with 0 < low <= high, "
                             f"got {scale!r}.")
        self.scale = None if scale is None else (float(scale[0]), float(scale[1]))
        self.fill = float(fill)

    def __call__(self, X, y, rng):
        _check_rng(rng)
        imgs, flat = self._images(X)
        n, (H, W) = imgs.shape[0], imgs.shape[-2:]
        theta = np.deg2rad(rng.uniform(*self.degrees, size=n))
        t = rng.uniform(*self.translate, size=(n, 2))
        s = np.ones(n) if self.scale is None else rng.uniform(*self.scale, size=n)
        cy, cx = (H - 1) / 2.0, (W - 1) / 2.0
        # p - c - t per output pixel; rows grow downwards, so "counter-clockwise as seen"
        # is the rotation by theta of (x, -y)
        dy = np.arange(H)[None, :, None] - cy - t[:, 0, None, None]
        dx = np.arange(W)[None, None, :] - cx - t[:, 1, None, None]
        cos, sin = (np.cos(theta) / s)[:, None, None], (np.sin(theta) / s)[:, None, None]
        rows = cy + cos * dy + sin * dx
        cols = cx - sin * dy + cos * dx
        return self._back(_bilinear(imgs, rows, cols, self.fill), flat), y

    def __repr__(self):
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, "
                f"scale={self.scale})")


def _symmetric_range(name, value):
    """``(-v, v)`` for a number v >= 0, or ``(low, high)`` as given with low <= high."""
    low, high = (-value, value) if np.isscalar(value) else value
    if not (np.isscalar(value) and value >= 0 or not np.isscalar(value) and low <= high):
        raise ValueError(f"RandomAffine({name}) must be a number >= 0 or (low, high) with "
                         f"low <= high, got {value!r}.")
    return float(low), float(high)


class Cutout(_Image):
    """Set a ``size`` x ``size`` square of each image to ``fill``, centred uniformly over the
    image and clipped at its border (so it may be partly outside), with probability ``p``.

    Args:
        size: the square's side, in pixels (an int >= 1).
        p: the probability of a cutout, per image.
        fill: the square's value.
        image_shape: ``(H, W)`` of flat rows (digits: ``(8, 8)``); None for image batches.

    Examples:
        >>> import numpy as np
        >>> Xa, _ = Cutout(2)(np.ones((1, 4, 4)), None, np.random.default_rng(0))
        >>> int((Xa == 0).sum()) <= 4
        True
    """

    def __init__(self, size, p=1.0, fill=0.0, image_shape=None):
        super().__init__(image_shape)
        if not (isinstance(size, int) and size >= 1):
            raise ValueError(f"Cutout(size) must be an int >= 1, got {size!r}.")
        self.size, self.p, self.fill = size, float(p), fill

    def __call__(self, X, y, rng):
        _check_rng(rng)
        imgs, flat = self._images(X)
        out = np.array(imgs, dtype=float, copy=True)
        H, W = imgs.shape[-2:]
        n = imgs.shape[0]
        cy, cx = rng.integers(0, H, size=n), rng.integers(0, W, size=n)
        on = rng.random(n) < self.p
        half = self.size // 2
        for i in np.flatnonzero(on):
            y0, x0 = max(cy[i] - half, 0), max(cx[i] - half, 0)
            out[i, ..., y0:cy[i] - half + self.size, x0:cx[i] - half + self.size] = self.fill
        return self._back(out, flat), y

    def __repr__(self):
        return f"Cutout({self.size}, p={self.p})"
