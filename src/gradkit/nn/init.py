"""Weight initializers: Glorot / Xavier, He / Kaiming, LeCun, orthogonal (whole or per gate),
normal, zeros and ones.

Every initializer has the signature ``init(rng, shape, dtype=np.float64) -> array`` with ``rng``
a :class:`numpy.random.Generator`. The variance-scaling ones draw weights with variance
``scale / fan``, where the fans follow gradkit's layer layouts (see :func:`fans`):

=================  ==========================  ===========================================
initializer        variance                    distribution
=================  ==========================  ===========================================
glorot_uniform     2 / (fan_in + fan_out)      U(-a, a), a = sqrt(6 / (fan_in + fan_out))
glorot_normal      2 / (fan_in + fan_out)      N(0, 2 / (fan_in + fan_out))
he_uniform         2 / fan_in                  U(-a, a), a = sqrt(6 / fan_in)
he_normal          2 / fan_in                  N(0, 2 / fan_in)
lecun_uniform      1 / fan_in                  U(-a, a), a = sqrt(3 / fan_in)
lecun_normal       1 / fan_in                  N(0, 1 / fan_in)
=================  ==========================  ===========================================

The normal variants are plain (not truncated) normals, as in PyTorch (Keras truncates at two
standard deviations and rescales). ``xavier_*`` and ``kaiming_*`` are aliases.

>>> import numpy as np
>>> W = he_normal(np.random.default_rng(0), (256, 128))
>>> W.shape, round(float(W.var() * 256 / 2), 1)
((256, 128), 1.0)
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = [
    "fans", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
    "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "block_orthogonal", "normal", "zeros", "ones", "get_initializer", "INITIALIZERS",
]


def fans(shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` in gradkit's layouts.

    - ``(n,)``: both fans are ``n``.
    - ``(in, out)``: a :class:`~gradkit.nn.Linear` weight (``y = x @ W``).
    - ``(out_ch, in_ch, kh, kw, ...)``: a convolution kernel; with the receptive field
      ``r = kh * kw * ...``, ``fan_in = in_ch * r`` and ``fan_out = out_ch * r``.

    Args:
        shape: the weight's shape, a tuple of ints.

    Returns:
        ``(fan_in, fan_out)``, two ints.

    Raises:
        ValueError: for a scalar shape, which has no fans.

    Examples:
        >>> fans((3, 5)), fans((16, 1, 3, 3))
        ((3, 5), (9, 144))
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        raise ValueError("An initializer needs a weight shape with at least one dimension; "
                         "got shape (). Use zeros or a constant for scalars.")
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _uniform(rng, shape, dtype, variance):
    limit = math.sqrt(3.0 * variance)  # U(-a, a) has variance a^2 / 3
    return rng.uniform(-limit, limit, size=shape).astype(dtype, copy=False)


def _normal(rng, shape, dtype, variance):
    return (math.sqrt(variance) * rng.standard_normal(size=shape)).astype(dtype, copy=False)


def glorot_uniform(rng, shape, dtype=np.float64):
    """Glorot / Xavier uniform: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    Keeps the variance of activations and of gradients about equal across tanh / linear
    layers (Glorot & Bengio, 2010).

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> W = glorot_uniform(np.random.default_rng(0), (3, 5))
        >>> bool(np.all(np.abs(W) <= np.sqrt(6 / 8)))
        True
    """
    fan_in, fan_out = fans(shape)
    return _uniform(rng, shape, dtype, 2.0 / (fan_in + fan_out))


def glorot_normal(rng, shape, dtype=np.float64):
    """Glorot / Xavier normal: ``N(0, 2 / (fan_in + fan_out))`` (not truncated).

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> glorot_normal(np.random.default_rng(0), (3, 5), np.float32).dtype
        dtype('float32')
    """
    fan_in, fan_out = fans(shape)
    return _normal(rng, shape, dtype, 2.0 / (fan_in + fan_out))


def he_uniform(rng, shape, dtype=np.float64):
    """He / Kaiming uniform: ``U(-a, a)``, ``a = sqrt(6 / fan_in)`` (variance ``2 / fan_in``).

    Suited to ReLU networks, which halve the variance at each layer (He et al., 2015).

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> bool(np.all(np.abs(he_uniform(np.random.default_rng(0), (6, 2))) <= 1.0))
        True
    """
    return _uniform(rng, shape, dtype, 2.0 / fans(shape)[0])


def he_normal(rng, shape, dtype=np.float64):
    """He / Kaiming normal: ``N(0, 2 / fan_in)`` (not truncated).

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> he_normal(np.random.default_rng(0), (16, 1, 3, 3)).shape
        (16, 1, 3, 3)
    """
    return _normal(rng, shape, dtype, 2.0 / fans(shape)[0])


def lecun_uniform(rng, shape, dtype=np.float64):
    """LeCun uniform: ``U(-a, a)``, ``a = sqrt(3 / fan_in)`` (variance ``1 / fan_in``).

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> bool(np.all(np.abs(lecun_uniform(np.random.default_rng(0), (3, 2))) <= 1.0))
        True
    """
    return _uniform(rng, shape, dtype, 1.0 / fans(shape)[0])


def lecun_normal(rng, shape, dtype=np.float64):
    """LeCun normal: ``N(0, 1 / fan_in)`` (not truncated); the SELU initializer.

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> lecun_normal(np.random.default_rng(0), (4, 3)).shape
        (4, 3)
    """
    return _normal(rng, shape, dtype, 1.0 / fans(shape)[0])


def orthogonal(rng, shape, dtype=np.float64, gain=1.0):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014).

    The weight is viewed as a matrix ``M`` of shape ``(shape[0], prod(shape[1:]))``; ``M`` has
    orthonormal rows when it is wide and orthonormal columns when it is tall. It is the Q
    of the QR decomposition of a Gaussian matrix, with signs fixed so that the result is
    uniformly (Haar) distributed.

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.
        gain: the factor the orthogonal matrix is multiplied by.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        ValueError: for shapes with fewer than two dimensions.

    Examples:
        >>> Q = orthogonal(np.random.default_rng(0), (3, 5))
        >>> np.allclose(Q @ Q.T, np.eye(3))
        True
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal initialization needs at least two dimensions; got "
                         f"shape {shape}. Use another initializer for biases.")
    rows, cols = shape[0], math.prod(shape[1:])
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))  # makes the distribution uniform over orthogonal matrices
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(dtype, copy=False)


def block_orthogonal(rng, shape, dtype=np.float64, gain=1.0):
    """Side-by-side orthogonal blocks: the columns of an ``(n, m)`` matrix in blocks of ``n``,
    each block an independent orthogonal matrix times ``gain`` (a last, narrower block has
    orthonormal columns).

    The recurrent weight ``W_hh`` of shape ``(n, k n)`` of a cell with ``k`` gates (LSTM: 4,
    GRU: 3, RNN: 1) maps the hidden state to every gate at once; orthogonal blocks make each
    gate's hidden-to-hidden map norm-preserving at initialization, so the unrolled network
    neither shrinks nor amplifies the state from step to step (Saxe et al., 2014).
    :func:`orthogonal` of the whole ``(n, k n)`` matrix would only make its rows orthonormal,
    and each block would then be a contraction.

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, ``(n, m)``.
        dtype: the dtype of the result.
        gain: the factor each orthogonal block is multiplied by.

    Returns:
        An array of ``shape`` and ``dtype``.

    Raises:
        ValueError: for a shape that is not two-dimensional.

    Examples:
        >>> W = block_orthogonal(np.random.default_rng(0), (3, 12))
        >>> all(np.allclose(W[:, j:j + 3].T @ W[:, j:j + 3], np.eye(3)) for j in range(0, 12, 3))
        True
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2:
        raise ValueError(f"block_orthogonal needs a matrix shape (n, k * n), a recurrent "
                         f"weight; got shape {shape}.")
    n, m = shape
    blocks = [orthogonal(rng, (n, min(n, m - j)), np.float64, gain) for j in range(0, m, n)]
    return np.concatenate(blocks, axis=1).astype(dtype, copy=False)


def normal(rng, shape, dtype=np.float64, std=1.0):
    """``N(0, std^2)`` entries: with ``std=1``, PyTorch's initialization of an embedding table.

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        shape: the weight's shape, in gradkit's layouts (see :func:`fans`).
        dtype: the dtype of the result.
        std: the standard deviation.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> normal(np.random.default_rng(0), (2, 3)).shape
        (2, 3)
    """
    return (float(std) * rng.standard_normal(size=tuple(shape))).astype(dtype, copy=False)


def zeros(rng, shape, dtype=np.float64):
    """All zeros (biases, BatchNorm shift); ``rng`` is unused.

    Args:
        rng: unused (every initializer takes it).
        shape: the array's shape.
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> zeros(None, (2,))
        array([0., 0.])
    """
    return np.zeros(shape, dtype=dtype)


def ones(rng, shape, dtype=np.float64):
    """All ones (the BatchNorm scale); ``rng`` is unused.

    Args:
        rng: unused (every initializer takes it).
        shape: the array's shape.
        dtype: the dtype of the result.

    Returns:
        An array of ``shape`` and ``dtype``.

    Examples:
        >>> ones(None, (2,))
        array([1., 1.])
    """
    return np.ones(shape, dtype=dtype)


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal

#: Every initializer by name (PyTorch's and Keras's names both: ``xavier_*`` = ``glorot_*``,
#: ``kaiming_*`` = ``he_*``).
INITIALIZERS: dict[str, Callable] = {
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "kaiming_uniform": kaiming_uniform, "kaiming_normal": kaiming_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
    "orthogonal": orthogonal, "block_orthogonal": block_orthogonal, "normal": normal,
    "zeros": zeros, "ones": ones,
}


def get_initializer(name_or_callable) -> Callable:
    """The initializer called ``name`` (case-insensitive), or the callable itself.

    Args:
        name_or_callable: the name of an initializer in :data:`INITIALIZERS` (its aliases
            included: ``"xavier_uniform"``, ``"kaiming_normal"``, ...) or a callable
            ``init(rng, shape, dtype)``.

    Returns:
        The initializer, a callable ``init(rng, shape, dtype) -> array``.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
        TypeError: for something that is neither a name nor a callable.

    Examples:
        >>> get_initializer("Kaiming_Normal") is he_normal
        True
    """
    if callable(name_or_callable):
        return name_or_callable
    if isinstance(name_or_callable, str):
        key = name_or_callable.lower().replace("-", "_")
        if key in INITIALIZERS:
            return INITIALIZERS[key]
        raise ValueError(f"Unknown initializer {name_or_callable!r}. Valid names: "
                         f"{', '.join(sorted(INITIALIZERS))}; or pass a function "
                         "init(rng, shape, dtype) -> array.")
    raise TypeError(f"An initializer must be a name or a function init(rng, shape, dtype); "
                    f"got {type(name_or_callable).__name__}.")
