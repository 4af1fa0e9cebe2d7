r"""Recurrent networks: the cells RNNCell, LSTMCell and GRUCell, and Recurrent / unroll, which
run a cell over a sequence.

A *cell* maps one time step's input and the previous *carry* (the hidden state ``h``; for
the LSTM the pair ``(h, c)``) to the new carry and the step's output ``h``. Its parameters
follow gradkit's :class:`~gradkit.nn.Linear` layout, ``x @ W``: ``W_ih`` is
``(input_size, k * hidden_size)`` and ``W_hh`` is ``(hidden_size, k * hidden_size)`` for a
cell with ``k`` gates, the gates side by side in PyTorch's order. So PyTorch's
``weight_ih_l0`` is ``W_ih.T`` and ``weight_hh_l0`` is ``W_hh.T``. The two biases PyTorch
keeps (``b_ih + b_hh``) are one bias ``b`` wherever only their sum matters.

Sequences are **batch-first**, ``(N, T, F)`` (the layer contract puts the batch axis
first); :func:`unroll` also takes time-first ``(T, N, F)`` with ``time_major=True``. The
input projection ``x_t @ W_ih + b`` of every step is one matrix product over the whole
sequence before the loop (as cuDNN does); only ``h @ W_hh`` is computed step by step.

>>> import numpy as np, gradkit as gk
>>> lstm = Recurrent(LSTMCell(8))
>>> params, state = lstm.init(np.random.default_rng(0), (5, 3))
>>> sorted(params), lstm.output_shape((5, 3))
(['W_hh', 'W_ih', 'b'], (5, 8))
>>> x = np.random.default_rng(1).normal(size=(2, 5, 3))
>>> grads = gk.grad(lambda p: np.sum(lstm.apply(p, state, x)[0] ** 2))(params)
>>> grads["W_hh"].shape
(8, 32)
"""
from __future__ import annotations

import numpy as np

from ..autodiff.trace import getval
from . import functional as F
from .init import get_initializer
from .layers import Layer

__all__ = ["Cell", "RNNCell", "LSTMCell", "GRUCell", "Recurrent", "unroll"]


class Cell:
    """Base class of the recurrent cells: one step ``(carry, x_t) -> (carry, h_t)``.

    A cell with ``n_gates`` gates has the parameters ``W_ih (input_size, n_gates * H)``,
    ``W_hh (H, n_gates * H)`` and ``b (n_gates * H,)``. Subclasses define :meth:`recur`
    (and :meth:`zero_carry` when the carry is not just ``h``).

    Args:
        hidden_size: ``H``, the size of the hidden state.
        kernel_init: initializer of ``W_ih``; Glorot uniform by default (Keras's choice).
        recurrent_init: initializer of ``W_hh``; one orthogonal block per gate by default
            (:func:`~gradkit.nn.init.block_orthogonal`), so the state is neither shrunk
            nor amplified from step to step at initialization.

    Examples:
        >>> import numpy as np
        >>> cell = LSTMCell(5)
        >>> params = cell.init(np.random.default_rng(0), 3)
        >>> cell.n_gates, params["W_ih"].shape, params["W_hh"].shape, params["b"].shape
        (4, (3, 20), (5, 20), (20,))
    """

    name = "cell"
    n_gates = 1

    def __init__(self, hidden_size, kernel_init="glorot_uniform",
                 recurrent_init="block_orthogonal"):
        if int(hidden_size) < 1:
            raise ValueError(f"{type(self).__name__}(hidden_size) must be a positive int; got "
                             f"{hidden_size}.")
        self.hidden_size = int(hidden_size)
        self.kernel_init = get_initializer(kernel_init)
        self.recurrent_init = get_initializer(recurrent_init)

    def init(self, rng, input_size, dtype=np.float64):
        """The parameters for inputs of ``input_size`` features."""
        k, n = self.n_gates, self.hidden_size
        return {"W_ih": self.kernel_init(rng, (int(input_size), k * n), dtype),
                "W_hh": self.recurrent_init(rng, (n, k * n), dtype),
                "b": self.bias_init(dtype)}

    def bias_init(self, dtype):
        """The initial bias: zeros."""
        return np.zeros(self.n_gates * self.hidden_size, dtype)

    def zero_carry(self, x_t):
        """The initial carry (zeros) for a batch of step inputs ``x_t`` of shape ``(N, ...)``."""
        v = getval(x_t)  # a plain buffer on x_t's device (NumPy or CuPy); no derivative
        dtype = v.dtype if np.issubdtype(v.dtype, np.inexact) else np.float64
        return np.zeros_like(v, shape=(v.shape[0], self.hidden_size), dtype=dtype)

    def project_inputs(self, params, x):
        """``x @ W_ih + b`` on the last axis: the input's share of every gate, for one step or
        for a whole sequence at once."""
        return F.linear(x, params["W_ih"], params["b"])

    def recur(self, params, carry, xw_t):
        """One step from the projected input ``xw_t = x_t @ W_ih + b``:
        ``(new_carry, h_t)``."""
        raise NotImplementedError

    def step(self, params, carry, x_t):
        """One step from the raw input ``x_t`` of shape ``(N, input_size)``:
        ``(new_carry, h_t)``; ``carry=None`` starts from zeros."""
        xw_t = self.project_inputs(params, x_t)
        if carry is None:
            carry = self.zero_carry(xw_t)
        return self.recur(params, carry, xw_t)

    def __repr__(self):
        return f"{type(self).__name__}({self.hidden_size})"


class RNNCell(Cell):
    r"""The Elman cell: :math:`h_t = \tanh(x_t W_{ih} + h_{t-1} W_{hh} + b)`.

    PyTorch's ``nn.RNNCell`` (``nonlinearity="tanh"``) with ``b = b_ih + b_hh``. The carry
    is ``h`` of shape ``(N, H)``. Gradients through many steps are products of
    ``W_hh^T diag(1 - h_t^2)``: they vanish or explode geometrically, the reason for the
    gated cells and for gradient clipping.

    Args:
        hidden_size: ``H``, the size of the hidden state.
        kernel_init: initializer of ``W_ih``, as :class:`Cell`.
        recurrent_init: initializer of ``W_hh``, as :class:`Cell`.

    Examples:
        >>> import numpy as np
        >>> cell = RNNCell(4)
        >>> params = cell.init(np.random.default_rng(0), 3)
        >>> h, out = cell.step(params, None, np.ones((2, 3)))
        >>> out.shape, bool(np.all(np.abs(out) < 1))
        ((2, 4), True)
    """

    name = "rnn"
    n_gates = 1

    def recur(self, params, carry, xw_t):
        h = np.tanh(xw_t + carry @ params["W_hh"])
        return h, h


class LSTMCell(Cell):
    r"""Long short-term memory (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers
    et al., 2000), with PyTorch's equations and gate order ``i, f, g, o``:

    .. math::
        [a_i, a_f, a_g, a_o] &= x_t W_{ih} + h_{t-1} W_{hh} + b \\
        i = \sigma(a_i),\ f &= \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o) \\
        c_t = f \odot c_{t-1} + i \odot g, &\qquad h_t = o \odot \tanh(c_t)

    The carry is ``(h, c)``, each ``(N, H)``. Biases: PyTorch's ``nn.LSTM`` has ``b_ih`` and
    ``b_hh``, which only enter as their sum; here ``b = b_ih + b_hh``. The forget block of
    ``b`` starts at ``forget_bias`` (1 by default; Gers et al., 2000; Jozefowicz et al.,
    2015), the rest at zero, so the cell remembers by default; PyTorch initializes every
    weight and bias from ``U(-1/sqrt(H), 1/sqrt(H))`` instead.

    Args:
        hidden_size: ``H``, the size of the hidden state.
        kernel_init: initializer of ``W_ih``, as :class:`Cell`.
        recurrent_init: initializer of ``W_hh``, as :class:`Cell`.
        forget_bias: the initial bias of the forget gate.

    Examples:
        >>> import numpy as np
        >>> cell = LSTMCell(4)
        >>> params = cell.init(np.random.default_rng(0), 3)
        >>> params["b"].reshape(4, 4)[1]  # the forget block
        array([1., 1., 1., 1.])
        >>> (h, c), out = cell.step(params, None, np.ones((2, 3)))
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """

    name = "lstm"
    n_gates = 4

    def __init__(self, hidden_size, kernel_init="glorot_uniform",
                 recurrent_init="block_orthogonal", forget_bias=1.0):
        super().__init__(hidden_size, kernel_init, recurrent_init)
        self.forget_bias = float(forget_bias)

    def bias_init(self, dtype):
        b = np.zeros(4 * self.hidden_size, dtype)
        b[self.hidden_size:2 * self.hidden_size] = self.forget_bias
        return b

    def zero_carry(self, x_t):
        h = super().zero_carry(x_t)
        return h, np.zeros_like(h)

    def recur(self, params, carry, xw_t):
        h, c = carry
        n = self.hidden_size
        a = xw_t + h @ params["W_hh"]
        # one sigmoid over all four blocks (the g block's is unused): fewer, larger calls
        s = F.sigmoid(a)
        c = s[:, n:2 * n] * c + s[:, :n] * np.tanh(a[:, 2 * n:3 * n])
        h = s[:, 3 * n:] * np.tanh(c)
        return (h, c), h


class GRUCell(Cell):
    r"""Gated recurrent unit (Cho et al., 2014) with PyTorch's equations and gate order
    ``r, z, n``:

    .. math::
        r &= \sigma(x_t W_{ir} + h_{t-1} W_{hr} + b_r), \qquad
        z = \sigma(x_t W_{iz} + h_{t-1} W_{hz} + b_z) \\
        n &= \tanh(x_t W_{in} + b_n + r \odot (h_{t-1} W_{hn} + b_{hn})), \qquad
        h_t = (1 - z) \odot n + z \odot h_{t-1}

    The reset gate multiplies the hidden *projection* ``h W_hn + b_hn`` (PyTorch, cuDNN,
    Keras's ``reset_after=True``); Cho et al.'s original multiplies the state before it,
    ``(r * h) W_hn``, which gives a different function. Because ``b_hn`` sits inside the
    product with ``r`` it is a parameter of its own: ``b = (b_ir + b_hr, b_iz + b_hz, b_in)``
    of shape ``(3H,)`` and ``b_hn`` of shape ``(H,)``, zeros at initialization. The carry
    is ``h``.

    Args:
        hidden_size: ``H``, the size of the hidden state.
        kernel_init: initializer of ``W_ih``, as :class:`Cell`.
        recurrent_init: initializer of ``W_hh``, as :class:`Cell`.

    Examples:
        >>> import numpy as np
        >>> cell = GRUCell(4)
        >>> params = cell.init(np.random.default_rng(0), 3)
        >>> sorted(params), params["W_hh"].shape
        (['W_hh', 'W_ih', 'b', 'b_hn'], (4, 12))
    """

    name = "gru"
    n_gates = 3

    def init(self, rng, input_size, dtype=np.float64):
        params = super().init(rng, input_size, dtype)
        params["b_hn"] = np.zeros(self.hidden_size, dtype)
        return params

    def recur(self, params, carry, xw_t):
        h = carry
        n = self.hidden_size
        hw = h @ params["W_hh"]
        rz = F.sigmoid(xw_t[:, :2 * n] + hw[:, :2 * n])
        r, z = rz[:, :n], rz[:, n:]
        cand = np.tanh(xw_t[:, 2 * n:] + r * (hw[:, 2 * n:] + params["b_hn"]))
        h = cand + z * (h - cand)  # (1 - z) n + z h, one product fewer
        return h, h


def unroll(cell, params, xs, carry=None, *, time_major=False):
    """Run ``cell`` over the sequence ``xs``: ``(carry_t, h_t) = cell(carry_{t-1}, x_t)``.

    Args:
        cell: a :class:`Cell`.
        params: the cell's parameters.
        xs: the inputs, ``(N, T, F)`` (batch-first), or ``(T, N, F)`` with
            ``time_major=True``.
        carry: the initial carry (``h``, or ``(h, c)`` for the LSTM); zeros when None.
        time_major: whether the time axis comes first, in ``xs`` and in the outputs.

    Returns:
        ``(hs, carry)``: every step's output, ``(N, T, H)`` (or ``(T, N, H)``), and the last
        carry, from which a later call continues.

    Raises:
        ValueError: for ``xs`` that is not three-dimensional or has no time step.

    Examples:
        >>> import numpy as np
        >>> cell = GRUCell(2)
        >>> params = cell.init(np.random.default_rng(0), 3)
        >>> hs, h = unroll(cell, params, np.ones((4, 6, 3)))
        >>> hs.shape, np.array_equal(hs[:, -1], h)
        ((4, 6, 2), True)
    """
    shape = np.shape(xs)
    if len(shape) != 3 or shape[1 - int(bool(time_major))] == 0:
        layout = "(T, N, F)" if time_major else "(N, T, F)"
        raise ValueError(f"unroll takes a sequence of shape {layout} with at least one step; "
                         f"got shape {tuple(shape)}.")
    xw = cell.project_inputs(params, xs)
    if not time_major:
        xw = np.swapaxes(xw, 0, 1)  # the loop walks the leading axis
    if carry is None:
        carry = cell.zero_carry(xw[0])
    hs = []
    for t in range(xw.shape[0]):
        carry, h = cell.recur(params, carry, xw[t])
        hs.append(h)
    return np.stack(hs, axis=0 if time_major else 1), carry


class Recurrent(Layer):
    """A recurrent layer: ``cell`` unrolled over batch-first sequences ``(N, T, F)``,
    starting from a zero carry.

    Args:
        cell: an :class:`RNNCell`, :class:`LSTMCell` or :class:`GRUCell`.
        return_sequences: output every step, ``(N, T, H)`` (True), or the last, ``(N, H)``.

    Params: the cell's; no state. The layer is named after its cell (``"lstm"``), so a
    :class:`~gradkit.nn.Sequential` reports its gradients as ``"01_lstm"``. To start from
    another carry or to get the last carry back, call :func:`unroll`.

    Raises:
        TypeError: when ``cell`` is not a :class:`Cell`.

    Examples:
        >>> import numpy as np
        >>> rnn = Recurrent(RNNCell(3), return_sequences=False)
        >>> params, state = rnn.init(np.random.default_rng(0), (7, 2))
        >>> rnn.apply(params, state, np.ones((4, 7, 2)))[0].shape
        (4, 3)
    """

    def __init__(self, cell, return_sequences=True):
        if not isinstance(cell, Cell):
            raise TypeError(f"Recurrent(cell) takes an RNNCell, LSTMCell or GRUCell; got "
                            f"{type(cell).__name__}.")
        self.cell = cell
        self.return_sequences = bool(return_sequences)

    @property
    def name(self):
        return self.cell.name

    def init(self, rng, input_shape, dtype=np.float64):
        if len(input_shape) != 2:
            raise ValueError(f"Recurrent takes samples of shape (T, F) (batch-first sequences "
                             f"(N, T, F)); got input_shape {tuple(input_shape)}.")
        return self.cell.init(rng, input_shape[-1], dtype), {}

    def apply(self, params, state, x, *, train=False, rng=None):
        hs, _ = unroll(self.cell, params, x)
        return (hs if self.return_sequences else hs[:, -1]), state

    def output_shape(self, input_shape):
        h = self.cell.hidden_size
        return (input_shape[0], h) if self.return_sequences else (h,)
