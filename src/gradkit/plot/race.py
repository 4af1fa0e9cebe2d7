"""Optimizer races: loss against function evaluations and against wall-clock time."""
from __future__ import annotations

import numpy as np

from ._figure import new_figure, plain_text
from .landscape import PATH_COLORS, PATH_MARKERS

__all__ = ["race"]


def race(results, *, f_star=None, title=None, figsize=(10.0, 4.2)):
    """Loss against evaluations (left) and against time (right) for several optimizers.

    Args:
        results: ``{name: {"f": [...], "nfev": [...], "time": [...]}}``, per optimizer the
            objective after each iteration, the cumulative number of function evaluations
            at that point, and the cumulative wall-clock seconds. ``"nfev"`` defaults to
            ``1, 2, ...``; without ``"time"`` the optimizer is left out of the right panel.
        f_star: the optimal value, if known: then ``f - f_star`` is drawn (floored at 1e-16)
            on a log scale. Without it, a log scale is used when every ``f`` is positive.
        title: the title (shown as plain text); None for ``"optimizer race"``.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``Figure`` with two axes, one line per optimizer in each (the same colour and
        marker in both, as in :func:`landscape`), and one legend beside them.

    Raises:
        ValueError: if ``results`` is empty or an entry's lists have different lengths.

    Examples:
        >>> fig = race({"gd": {"f": [4, 2, 1], "nfev": [1, 2, 3], "time": [.1, .2, .3]},
        ...             "newton": {"f": [4, .1], "nfev": [1, 2], "time": [.2, .4]}})
        >>> [len(ax.get_lines()) for ax in fig.axes]
        [2, 2]
    """
    if not results:
        raise ValueError("results is empty; give {name: {'f': [...], 'nfev': [...], "
                         "'time': [...]}}.")
    fig, (ax_n, ax_t) = new_figure(1, 2, figsize=figsize)
    all_positive = True
    for i, (name, r) in enumerate(results.items()):
        if "f" not in r:
            raise ValueError(f"results[{name!r}] has no 'f' list of objective values.")
        f = np.asarray(r["f"], dtype=float)
        nfev = np.asarray(r.get("nfev", np.arange(1, f.size + 1)), dtype=float)
        for key, arr in (("nfev", nfev), ("time", r.get("time"))):
            if arr is not None and len(arr) != f.size:
                raise ValueError(f"results[{name!r}]: {len(arr)} {key!r} values for {f.size} "
                                 "'f' values.")
        y = f if f_star is None else np.maximum(f - f_star, 1e-16)
        all_positive &= bool(np.all(y[np.isfinite(y)] > 0))
        style = dict(color=PATH_COLORS[i % len(PATH_COLORS)],
                     marker=PATH_MARKERS[i % len(PATH_MARKERS)],
                     markevery=max(1, f.size // 8), markersize=5, label=str(name))
        ax_n.plot(nfev, y, **style)
        if r.get("time") is not None:
            ax_t.plot(np.asarray(r["time"], dtype=float), y, **dict(style, label="_" + str(name)))
    for ax in (ax_n, ax_t):
        if f_star is not None or all_positive:
            ax.set_yscale("log")
        ax.set_ylabel("f - f*" if f_star is not None else "f")
    # one legend for both panels, beside them: it covers no curve
    plain_text(fig.legend(loc="outside right upper", fontsize="small"))
    ax_n.set_xlabel("function evaluations")
    ax_t.set_xlabel("time (s)")
    fig.suptitle(title or "optimizer race")
    return fig
