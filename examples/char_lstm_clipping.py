"""
Exploding gradients in a character LSTM, stopped by clipping
============================================================

Exploding gradients in a character-level LSTM language model, and gradient clipping.

An LSTM (``Embedding -> Recurrent(LSTMCell) -> Linear``) learns to predict the next character
of a short built-in text, by plain SGD with a learning rate that is too large for it
(``learning_rate=20``). It is trained twice from the same initialization on the same
batches: once as is, once with ``clip_by_global_norm`` chained before SGD (Pascanu, Mikolov &
Bengio, 2013). A ``GradientMonitor`` records every layer's gradient norm (before clipping).

- Without clipping, the monitor's findings name an **exploding** gradient: within the first
  few steps a layer's gradient norm grows more than 100-fold while the loss jumps far above
  its starting value; the run ends with a loss about ten times the clipped run's.
- With clipping, there is no exploding finding, and the training loss ends far lower.

The gradient that explodes first is the embedding's: it is the one carried back through
every time step of the recurrence. The figure shows both runs side by side: the training loss
and the embedding's gradient norm at every step, with the step of the exploding finding
marked. ``--report PATH`` writes both runs (findings, losses and gradient flow figures) to
one HTML page with :mod:`gradkit.report`; ``--plot PATH`` saves the figure.

Run it with::

    python examples/char_lstm_clipping.py [--steps 120] [--report char_lstm.html]
                                          [--plot char_lstm.png]
"""
import argparse
import functools

import numpy as np
from matplotlib.figure import Figure

import gradkit as gk
from gradkit import nn
from gradkit.diagnostics import GradientMonitor
from gradkit.optim import apply_updates, chain, clip_by_global_norm, sgd

TEXT = (
    "the gradient tells each weight which way to move. backpropagation carries it from the "
    "loss back through every layer, and through every step of a recurrent network. when the "
    "same weights are multiplied again and again, the gradient can shrink to nothing or grow "
    "without bound. clipping its norm keeps each step a sensible size. ") * 2
CHARS = sorted(set(TEXT))
IDS = np.array([CHARS.index(c) for c in TEXT])
SEQ_LEN, BATCH, HIDDEN, LEARNING_RATE, MAX_NORM = 25, 16, 32, 20.0, 0.25


def build_model():
    """Embedding (16-d), an LSTM of 32 units over the sequence, and logits per position."""
    vocab = len(CHARS)
    return nn.Sequential([nn.Embedding(vocab, 16), nn.Recurrent(nn.LSTMCell(HIDDEN)),
                          nn.Linear(vocab)])


def batches(steps, seed=1):
    """``steps`` batches of random windows: inputs and the next characters (the targets)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        starts = rng.integers(0, IDS.size - SEQ_LEN - 1, BATCH)
        windows = IDS[starts[:, None] + np.arange(SEQ_LEN + 1)]
        yield windows[:, :-1], windows[:, 1:]


def train(clip, steps):
    """Train from a fixed initialization; return the monitor and the final parameters."""
    model = build_model()
    params, state = model.init(np.random.default_rng(0), (SEQ_LEN,))

    def loss(params, x, y):
        logits, _ = model.apply(params, state, x)
        return nn.losses.cross_entropy(logits.reshape(-1, len(CHARS)), y.reshape(-1))

    value_and_grad = gk.value_and_grad(loss)
    tx = chain(clip_by_global_norm(MAX_NORM), sgd(LEARNING_RATE)) if clip else sgd(LEARNING_RATE)
    opt_state = tx.init(params)
    monitor = GradientMonitor()
    for step, (x, y) in enumerate(batches(steps)):
        value, grads = value_and_grad(params, x, y)
        updates, opt_state = tx.update(grads, opt_state, params)
        if not monitor.record(step, value, grads, params, updates=updates,
                              learning_rate=LEARNING_RATE):
            break  # a NaN: the monitor keeps the last good parameters
        params = apply_updates(params, updates)
    return model, monitor, params


def sample(model, params, prompt="the ", length=60):
    """Greedy decoding, one character at a time, with the LSTM cell's carry kept across steps."""
    emb, rec, out = (params[k] for k in model.keys)
    cell = model.layers[1].cell
    carry, h = None, None
    text = prompt
    for ch in prompt:
        carry, h = cell.step(rec, carry, emb["W"][[CHARS.index(ch)]])
    for _ in range(length):
        nxt = int(np.argmax(h @ out["W"] + out["b"]))
        text += CHARS[nxt]
        carry, h = cell.step(rec, carry, emb["W"][[nxt]])
    return text


def write_report(path, runs):
    from gradkit.plot import gradient_flow
    from gradkit.report import Report
    report = Report("Exploding gradients in a character-level LSTM",
                    f"SGD, learning rate {LEARNING_RATE}, with and without "
                    f"clip_by_global_norm({MAX_NORM})")
    for title, monitor in runs:
        section = report.section(title)
        findings = monitor.findings()
        for f in findings:
            section.finding(f.kind, f.message, f.remedy)
        if not findings:
            section.finding("ok", "No finding: no layer's gradient exploded.", level="ok")
        h = monitor.history
        section.table({"first loss": h["loss"][0], "highest loss": max(h["loss"]),
                       "mean loss, last 20 steps": float(np.mean(h["loss"][-20:]))})
        section.figure(gradient_flow(h, findings), caption="gradient norm per layer")
    return report.write(path)


def plot_runs(runs):
    """Loss (left) and the embedding's gradient norm (right) per step, for each run."""
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax_loss, ax_norm = fig.subplots(1, 2, sharex=True)
    for (title, monitor), color in zip(runs, ("tab:red", "tab:blue")):
        h = monitor.history
        ax_loss.plot(h["step"], h["loss"], color=color, linewidth=1.2, label=title)
        ax_norm.plot(h["step"], h["grad_norm"]["00_embedding"], color=color, linewidth=1.2)
        for step in sorted({f.step for f in monitor.findings() if f.kind == "exploding"}):
            for ax in (ax_loss, ax_norm):
                ax.axvline(step, color=color, linestyle="--", linewidth=1)
            ax_norm.annotate("exploding", (step, 1.0), xycoords=("data", "axes fraction"),
                             xytext=(3, -3), textcoords="offset points", va="top",
                             color=color, fontsize="small")
    ax_loss.set(yscale="log", xlabel="step", ylabel="training loss (cross-entropy)",
                title="loss")
    ax_norm.set(yscale="log", xlabel="step", ylabel="gradient norm (before clipping)",
                title="gradient norm of the embedding")
    fig.suptitle(f"Character LSTM without and with clipping (SGD, learning rate "
                 f"{LEARNING_RATE:g})")
    fig.legend(loc="outside lower center", ncol=2, fontsize="small")
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--report", help="write the HTML report to this file")
    parser.add_argument("--plot", help="save the figure to this PNG file")
    args = parser.parse_args(argv)

    results = {}
    runs = []
    for clip in (False, True):
        title = f"with clip_by_global_norm({MAX_NORM})" if clip else "without clipping"
        model, monitor, params = train(clip, args.steps)
        runs.append((title, monitor))
        h = monitor.history
        exploding = [f for f in monitor.findings() if f.kind == "exploding"]
        growth = {g: float(np.nanmax(v) / v[0]) for g, v in h["grad_norm"].items()}
        final = float(np.mean(h["loss"][-20:]))
        print(f"{title}: loss {h['loss'][0]:.3f} -> {final:.3f} (mean of the last 20 steps), "
              f"highest {max(h['loss']):.3g}")
        print("  largest growth of the gradient norm per layer:",
              ", ".join(f"{g} {r:.0f}x" for g, r in growth.items()))
        for f in exploding:
            print("  finding:", f.message)
        if not exploding:
            print("  no exploding-gradient finding")
        results["clipped" if clip else "unclipped"] = {
            "exploding": exploding, "final_loss": final, "max_loss": max(h["loss"]),
            "growth": growth, "sample": sample(model, params)}
    print("clipped model continues 'the ':", repr(results["clipped"]["sample"]))
    if args.report:
        print("report written to", write_report(args.report, runs))
    results["figure"] = plot_runs(runs)
    if args.plot:
        results["figure"].savefig(args.plot)
        print("figure saved to", args.plot)
    return results


if __name__ == "__main__":
    figure = main()["figure"]  # the documentation's gallery shows this figure
