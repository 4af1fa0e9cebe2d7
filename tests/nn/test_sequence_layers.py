"""The sequence layers: Embedding, LayerNorm, Residual, the recurrent cells with Recurrent /
unroll, and multi-head self-attention, against finite differences, hand-written NumPy and,
where it is installed, PyTorch."""
import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import init
from gradkit.nn.attention import causal_mask, scaled_dot_product_attention

RNG = np.random.default_rng(0)


def _params(layer, input_shape, seed=0):
    params, state = layer.init(np.random.default_rng(seed), input_shape)
    # non-zero biases and scales, so their derivatives are exercised away from a special point
    rng = np.random.default_rng(seed + 1)
    return gk.tree.tree_map(lambda a: a + 0.3 * rng.standard_normal(a.shape), params), state


# ------------------------------------------------------------------ derivatives, order 2

LAYERS = [
    ("layernorm", lambda: nn.LayerNorm(), (3, 4)),
    ("layernorm_no_affine", lambda: nn.LayerNorm(elementwise_affine=False), (4,)),
    ("residual", lambda: nn.Residual(nn.Sequential([nn.Linear(3), nn.Tanh(), nn.Linear(3)])),
     (3,)),
    ("rnn", lambda: nn.Recurrent(nn.RNNCell(3)), (3, 2)),
    ("lstm", lambda: nn.Recurrent(nn.LSTMCell(3)), (3, 2)),
    ("gru", lambda: nn.Recurrent(nn.GRUCell(3)), (3, 2)),
    ("lstm_last", lambda: nn.Recurrent(nn.LSTMCell(2), return_sequences=False), (3, 2)),
    ("attention", lambda: nn.MultiHeadSelfAttention(2), (3, 4)),
    ("causal_attention", lambda: nn.MultiHeadSelfAttention(2, causal=True), (3, 4)),
]


@pytest.mark.parametrize("make,input_shape", [case[1:] for case in LAYERS],
                         ids=[case[0] for case in LAYERS])
def test_layer_derivatives_match_finite_differences_to_second_order(make, input_shape):
    layer = make()
    params, state = _params(layer, input_shape)
    x = RNG.standard_normal((2,) + input_shape)
    w = RNG.standard_normal((2,) + layer.output_shape(input_shape))

    def f(params, x):  # a weighted sum, so every output entry has its own weight
        return np.sum(w * layer.apply(params, state, x)[0])

    gk.check_grads(f, (params, x), order=2, modes=("fwd", "rev"))


def test_embedding_derivatives_match_finite_differences_to_second_order():
    emb = nn.Embedding(5, 3)
    params, state = emb.init(np.random.default_rng(0), (4,))
    idx = np.array([[0, 3, 3, 1], [3, 4, 0, 0]])

    def f(params):
        return np.sum(np.sin(emb.apply(params, state, idx)[0]))

    gk.check_grads(f, (params,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("cell", [nn.RNNCell(3), nn.LSTMCell(3), nn.GRUCell(3)], ids=repr)
def test_cell_step_derivatives_match_finite_differences(cell):
    params = gk.tree.tree_map(lambda a: a + 0.2, cell.init(np.random.default_rng(0), 2))
    x = RNG.standard_normal((2, 2))
    carry = cell.zero_carry(x)
    carry = gk.tree.tree_map(lambda a: a + RNG.standard_normal(a.shape), carry)

    def f(params, carry, x):
        new, h = cell.step(params, carry, x)
        return np.sum(h ** 2) + sum(np.sum(np.cos(leaf)) for leaf in gk.tree.tree_leaves(new))

    gk.check_grads(f, (params, carry, x), order=2, modes=("fwd", "rev"))


# ------------------------------------------------------------------ Embedding

def test_embedding_gradient_scatter_adds_repeated_tokens():
    emb = nn.Embedding(4, 2)
    params, state = emb.init(np.random.default_rng(0), (5,))
    idx = np.array([[1, 1, 3, 1, 0]])
    g_out = RNG.standard_normal((1, 5, 2))
    grad = gk.grad(lambda p: np.sum(g_out * emb.apply(p, state, idx)[0]))(params)["W"]
    expected = np.zeros((4, 2))
    for position, token in enumerate(idx[0]):
        expected[token] += g_out[0, position]
    np.testing.assert_allclose(grad, expected, rtol=0, atol=1e-15)
    assert not grad[2].any()  # an unused token gets no gradient
    np.testing.assert_allclose(grad[1], g_out[0, [0, 1, 3]].sum(axis=0))


@pytest.mark.parametrize("idx,error,match", [
    (np.array([[0, -1]]), IndexError, r"index -1; indices must be in \[0, 4\)"),
    (np.array([[0, 4]]), IndexError, r"index 4"),
    (np.array([[0.0, 1.0]]), TypeError, "integer indices"),
])
def test_embedding_refuses_indices_numpy_would_wrap_or_misread(idx, error, match):
    emb = nn.Embedding(4, 2)
    params, state = emb.init(np.random.default_rng(0), (2,))
    with pytest.raises(error, match=match):
        emb.apply(params, state, idx)


# ------------------------------------------------------------------ LayerNorm, Residual

def test_layernorm_normalizes_each_row_and_applies_scale_and_shift():
    ln = nn.LayerNorm()
    params, state = ln.init(None, (4, 6))
    x = 3.0 + 5.0 * RNG.standard_normal((2, 4, 6))
    y, _ = ln.apply(params, state, x)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0 / (1.0 + 1e-5 / x.var(axis=-1)), rtol=1e-12)
    params = {"gamma": np.arange(1.0, 7.0), "beta": -np.ones(6)}
    np.testing.assert_allclose(ln.apply(params, state, x)[0], y * params["gamma"] - 1.0,
                               rtol=1e-12)


def test_residual_adds_the_input_and_refuses_a_shape_change():
    block = nn.Linear(3)
    res = nn.Residual(block)
    params, state = res.init(np.random.default_rng(0), (3,))
    x = RNG.standard_normal((4, 3))
    np.testing.assert_array_equal(res.apply(params, state, x)[0],
                                  x + block.apply(params, state, x)[0])
    with pytest.raises(ValueError, match="same shape"):
        nn.Residual(nn.Linear(5)).init(np.random.default_rng(0), (3,))


# ------------------------------------------------------------------ recurrent

def _lstm_by_hand(params, xs):
    """The LSTM equations written out, one gate at a time."""
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    n, t_len, _ = xs.shape
    hidden = params["W_hh"].shape[0]
    W = {k: params["W_ih"][:, j * hidden:(j + 1) * hidden] for j, k in enumerate("ifgo")}
    U = {k: params["W_hh"][:, j * hidden:(j + 1) * hidden] for j, k in enumerate("ifgo")}
    b = {k: params["b"][j * hidden:(j + 1) * hidden] for j, k in enumerate("ifgo")}
    h, c, out = np.zeros((n, hidden)), np.zeros((n, hidden)), []
    for t in range(t_len):
        a = {k: xs[:, t] @ W[k] + h @ U[k] + b[k] for k in "ifgo"}
        c = sig(a["f"]) * c + sig(a["i"]) * np.tanh(a["g"])
        h = sig(a["o"]) * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)


def test_lstm_layer_equals_the_equations_written_by_hand():
    layer = nn.Recurrent(nn.LSTMCell(4))
    params, state = _params(layer, (5, 3))
    xs = RNG.standard_normal((2, 5, 3))
    np.testing.assert_allclose(layer.apply(params, state, xs)[0], _lstm_by_hand(params, xs),
                               rtol=1e-13, atol=1e-14)


def test_gru_layer_equals_pytorchs_equations_written_by_hand():
    layer = nn.Recurrent(nn.GRUCell(3))
    params, state = _params(layer, (4, 2))
    xs = RNG.standard_normal((2, 4, 2))
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    W = {k: params["W_ih"][:, j * 3:(j + 1) * 3] for j, k in enumerate("rzn")}
    U = {k: params["W_hh"][:, j * 3:(j + 1) * 3] for j, k in enumerate("rzn")}
    b = {k: params["b"][j * 3:(j + 1) * 3] for j, k in enumerate("rzn")}
    h, out = np.zeros((2, 3)), []
    for t in range(4):
        x = xs[:, t]
        r = sig(x @ W["r"] + h @ U["r"] + b["r"])
        z = sig(x @ W["z"] + h @ U["z"] + b["z"])
        n = np.tanh(x @ W["n"] + b["n"] + r * (h @ U["n"] + params["b_hn"]))
        h = (1 - z) * n + z * h
        out.append(h)
    np.testing.assert_allclose(layer.apply(params, state, xs)[0], np.stack(out, axis=1),
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("cell", [nn.RNNCell(3), nn.LSTMCell(3), nn.GRUCell(3)], ids=repr)
def test_unroll_time_major_and_carry_continuation(cell):
    params = cell.init(np.random.default_rng(0), 2)
    xs = RNG.standard_normal((4, 6, 2))
    hs, carry = nn.unroll(cell, params, xs)
    hs_t, carry_t = nn.unroll(cell, params, np.swapaxes(xs, 0, 1), time_major=True)
    np.testing.assert_array_equal(np.swapaxes(hs_t, 0, 1), hs)
    # two halves, the second continuing from the first's carry, equal the whole sequence
    first, mid = nn.unroll(cell, params, xs[:, :3])
    second, end = nn.unroll(cell, params, xs[:, 3:], mid)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), hs, rtol=1e-14)
    for a, b in zip(gk.tree.tree_leaves(end), gk.tree.tree_leaves(carry)):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_lstm_forget_bias_and_block_orthogonal_recurrent_weights():
    params = nn.LSTMCell(3, forget_bias=2.0).init(np.random.default_rng(0), 5)
    np.testing.assert_array_equal(params["b"], [0.0] * 3 + [2.0] * 3 + [0.0] * 6)
    for j in range(4):
        block = params["W_hh"][:, 3 * j:3 * (j + 1)]
        np.testing.assert_allclose(block.T @ block, np.eye(3), atol=1e-12)
    w = init.block_orthogonal(np.random.default_rng(0), (4, 6))  # last block narrower
    np.testing.assert_allclose(w[:, 4:].T @ w[:, 4:], np.eye(2), atol=1e-12)


def test_recurrent_errors_say_what_to_pass():
    with pytest.raises(TypeError, match="RNNCell, LSTMCell or GRUCell"):
        nn.Recurrent(nn.Linear(3))
    with pytest.raises(ValueError, match=r"\(T, F\)"):
        nn.Recurrent(nn.RNNCell(3)).init(np.random.default_rng(0), (4,))
    with pytest.raises(ValueError, match="at least one step"):
        nn.unroll(nn.RNNCell(2), nn.RNNCell(2).init(np.random.default_rng(0), 1), np.ones((3, 0, 1)))


# ------------------------------------------------------------------ PyTorch, float64

def _torch_recurrent(torch, kind, params, in_size, hidden):
    """A torch nn.RNN / LSTM / GRU holding gradkit's parameters (transposed; the bias split)."""
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        in_size, hidden, batch_first=True).double()
    b_ih = params["b"].copy()
    b_hh = np.zeros_like(b_ih)
    if kind == "gru":  # b_hn is its own parameter; b_in stays in b_ih
        b_hh[2 * hidden:] = params["b_hn"]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.from_numpy(params["W_ih"].T.copy()))
        module.weight_hh_l0.copy_(torch.from_numpy(params["W_hh"].T.copy()))
        module.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    return module


@pytest.mark.parametrize("kind,cell", [("lstm", nn.LSTMCell(4)), ("gru", nn.GRUCell(4)),
                                       ("rnn", nn.RNNCell(4))])
def test_recurrent_outputs_and_gradients_equal_torch_in_float64(kind, cell):
    torch = pytest.importorskip("torch")
    layer = nn.Recurrent(cell)
    params, state = _params(layer, (7, 3))
    xs = RNG.standard_normal((2, 7, 3))
    w = RNG.standard_normal((2, 7, 4))

    def loss(params, xs):
        return np.sum(w * np.tanh(layer.apply(params, state, xs)[0]))

    value, (g_params, g_x) = gk.value_and_grad(loss, argnums=(0, 1))(params, xs)

    module = _torch_recurrent(torch, kind, params, 3, 4)
    x_t = torch.from_numpy(xs.copy()).requires_grad_(True)
    out, _ = module(x_t)
    t_loss = (torch.from_numpy(w) * torch.tanh(out)).sum()
    t_loss.backward()
    np.testing.assert_allclose(layer.apply(params, state, xs)[0], out.detach().numpy(),
                               rtol=0, atol=1e-10)
    assert abs(value - t_loss.item()) < 1e-10
    np.testing.assert_allclose(g_x, x_t.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(g_params["W_ih"], module.weight_ih_l0.grad.numpy().T,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(g_params["W_hh"], module.weight_hh_l0.grad.numpy().T,
                               rtol=0, atol=1e-10)
    g_bias = module.bias_ih_l0.grad.numpy()
    if kind == "gru":  # b_ih's gradient for r, z is also b_hh's (they enter as a sum)
        np.testing.assert_allclose(g_params["b_hn"], module.bias_hh_l0.grad.numpy()[8:],
                                   rtol=0, atol=1e-10)
    else:
        np.testing.assert_allclose(module.bias_hh_l0.grad.numpy(), g_bias, rtol=0, atol=1e-10)
    np.testing.assert_allclose(g_params["b"], g_bias, rtol=0, atol=1e-10)


# ------------------------------------------------------------------ attention

def _attention_by_hand(params, x, num_heads, causal):
    """Multi-head self-attention with explicit loops over the batch, heads and queries."""
    n, t_len, d = x.shape
    hd = d // num_heads
    qkv = x @ params["W_qkv"] + params["b_qkv"]
    q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
    merged = np.zeros((n, t_len, d))
    for b in range(n):
        for j in range(num_heads):
            cols = slice(j * hd, (j + 1) * hd)
            for i in range(t_len):
                keys = range(i + 1) if causal else range(t_len)
                s = np.array([q[b, i, cols] @ k[b, m, cols] / np.sqrt(hd) for m in keys])
                p = np.exp(s - s.max())
                p /= p.sum()
                merged[b, i, cols] = sum(p[m] * v[b, m, cols] for m in keys)
    return merged @ params["W_o"] + params["b_o"]


@pytest.mark.parametrize("causal", [False, True])
def test_attention_equals_a_hand_written_reference(causal):
    attn = nn.MultiHeadSelfAttention(num_heads=3, causal=causal)
    params, state = _params(attn, (5, 6))
    x = RNG.standard_normal((2, 5, 6))
    np.testing.assert_allclose(attn.apply(params, state, x)[0],
                               _attention_by_hand(params, x, 3, causal), rtol=1e-12, atol=1e-13)


def test_causal_attention_does_not_see_the_future():
    attn = nn.MultiHeadSelfAttention(num_heads=2, causal=True)
    params, state = _params(attn, (6, 4))
    x = np.random.default_rng(1).standard_normal((1, 6, 4))  # (its own: not the tests' order)
    changed = x.copy()
    changed[0, 4] += 10.0  # a future token for positions 0..3
    y, y_changed = attn.apply(params, state, x)[0], attn.apply(params, state, changed)[0]
    np.testing.assert_array_equal(y[0, :4], y_changed[0, :4])
    assert np.abs(y[0, 4:] - y_changed[0, 4:]).min() > 1e-3  # and the present does see it
    # no gradient flows from an output back to a later input, exactly
    jac = gk.jacobian(lambda x: attn.apply(params, state, x)[0])(x)  # (1, 6, 4, 1, 6, 4)
    for t in range(6):
        assert not jac[0, t, :, 0, t + 1:].any()
        assert np.abs(jac[0, t, :, 0, :t + 1]).max() > 0
    # without the mask, the future does change the past
    free = nn.MultiHeadSelfAttention(num_heads=2)
    assert np.abs(free.apply(params, state, x)[0][0, :4]
                  - free.apply(params, state, changed)[0][0, :4]).min() > 0


def test_scaled_dot_product_attention_mask_and_errors():
    q, k, v = (RNG.standard_normal((2, 3, 4)) for _ in range(3))
    mask = np.array([[True, False, True], [True, True, False], [False, False, True]])
    out = scaled_dot_product_attention(q, k, v, mask=mask)
    s = q[1, 0] @ k[1, [0, 2]].T / 2.0
    p = np.exp(s) / np.exp(s).sum()
    np.testing.assert_allclose(out[1, 0], p @ v[1, [0, 2]], rtol=1e-13)
    both = scaled_dot_product_attention(q, k, v, mask=mask, causal=True)
    # mask and causal together: query 0 keeps key 0 only, query 1 what the mask allows
    # (keys 0, 1), query 2 key 2 only
    np.testing.assert_allclose(both[:, 0], v[:, 0], rtol=1e-13)
    np.testing.assert_allclose(both[:, 1], out[:, 1], rtol=1e-13)
    np.testing.assert_allclose(both[:, 2], v[:, 2], rtol=1e-13)
    with pytest.raises(ValueError, match="as many queries as keys"):
        scaled_dot_product_attention(q[:, :2], k, v, causal=True)
    with pytest.raises(ValueError, match="does not divide"):
        nn.MultiHeadSelfAttention(3).init(np.random.default_rng(0), (4, 8))
    np.testing.assert_array_equal(causal_mask(2), [[True, False], [True, True]])


def test_attention_equals_torch_in_float64():
    torch = pytest.importorskip("torch")
    q, k, v = (RNG.standard_normal((2, 3, 5, 4)) for _ in range(3))
    for causal in (False, True):
        ours = scaled_dot_product_attention(q, k, v, causal=causal)
        theirs = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(a) for a in (q, k, v)), is_causal=causal).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    attn = nn.MultiHeadSelfAttention(num_heads=2, causal=True)
    params, state = _params(attn, (5, 6))
    x = RNG.standard_normal((3, 5, 6))
    mha = torch.nn.MultiheadAttention(6, 2, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(params["W_qkv"].T.copy()))
        mha.in_proj_bias.copy_(torch.from_numpy(params["b_qkv"]))
        mha.out_proj.weight.copy_(torch.from_numpy(params["W_o"].T.copy()))
        mha.out_proj.bias.copy_(torch.from_numpy(params["b_o"]))
    xt = torch.from_numpy(x)
    future = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)  # torch: True = masked
    theirs, _ = mha(xt, xt, xt, attn_mask=future, need_weights=False)
    np.testing.assert_allclose(attn.apply(params, state, x)[0], theirs.detach().numpy(),
                               rtol=0, atol=1e-12)


def test_layernorm_equals_torch_in_float64():
    torch = pytest.importorskip("torch")
    ln = nn.LayerNorm()
    params, state = _params(ln, (4, 6))
    x = RNG.standard_normal((2, 4, 6))
    theirs = torch.nn.functional.layer_norm(torch.from_numpy(x), (6,),
                                            torch.from_numpy(params["gamma"]),
                                            torch.from_numpy(params["beta"]), eps=1e-5)
    np.testing.assert_allclose(ln.apply(params, state, x)[0], theirs.numpy(), rtol=0, atol=1e-12)
