"""Loss landscapes: contours of a 2-D function with its gradient field and optimizer paths,
and 2-D slices through a model's parameter space (Li et al. 2018)."""
from __future__ import annotations

import numpy as np

from ..autodiff import grad
from ..tree import ravel_pytree, tree_map
from ._figure import new_figure, plain_text

__all__ = ["landscape", "loss_slice"]


def _grid_values(f, XX, YY):
    """``f`` on a grid: one vectorised call ``f(np.stack([XX, YY]))`` when ``f`` supports it
    (checked against pointwise calls), else point by point. Returns (Z, vectorised)."""
    points = np.stack([XX, YY])
    try:
        with np.errstate(all="ignore"):
            Z = np.asarray(f(points), dtype=float)
        ok = Z.shape == XX.shape
        if ok:
            flat = np.flatnonzero(np.ones(XX.size, bool))
            for i in flat[[0, XX.size // 2, -1]]:
                p = np.array([XX.flat[i], YY.flat[i]])
                want = float(np.asarray(f(p), dtype=float))
                if not np.isclose(Z.flat[i], want, rtol=1e-9, atol=1e-12, equal_nan=True):
                    ok = False
    except Exception:  # noqa: BLE001 (not vectorisable: evaluate point by point)
        ok = False
    if ok:
        return Z, True
    Z = np.array([float(np.asarray(f(np.array([x, y])), dtype=float))
                  for x, y in zip(XX.ravel(), YY.ravel())]).reshape(XX.shape)
    return Z, False


def _grid_gradients(f, XX, YY, vectorised):
    if vectorised:  # points do not interact, so the gradient of the sum is the field
        return grad(lambda P: np.sum(f(P)))(np.stack([XX, YY]))
    g = grad(f)
    G = np.array([g(np.array([x, y])) for x, y in zip(XX.ravel(), YY.ravel())])
    return G.T.reshape((2,) + XX.shape)


def _levels(Z, levels):
    if not isinstance(levels, (int, np.integer)):
        return np.asarray(levels, dtype=float)
    finite = Z[np.isfinite(Z)]
    qs = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, int(levels))))
    return qs if qs.size >= 2 else int(levels)


def _as_path(name, path):
    p = np.asarray(path, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 1:
        raise ValueError(f"paths[{name!r}] must be an array of points with shape (k, 2); got "
                         f"shape {p.shape}.")
    return p


#: Distinct colours (Okabe & Ito's palette, readable with colour blindness, then tab10)
#: and markers, so that eight paths are told apart even where they overlap.
PATH_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
               "tab:brown", "tab:gray", "#F0E442")
PATH_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")


def _draw_paths(ax, paths, fig=None):
    """Each path in its own colour and marker (markers at about ten iterates along it, a
    large one at its end); a common start is a black ring. The legend goes beside the
    axes (``fig`` given) so it covers no data."""
    for i, (name, path) in enumerate((paths or {}).items()):
        p = _as_path(name, path)
        color, marker = PATH_COLORS[i % len(PATH_COLORS)], PATH_MARKERS[i % len(PATH_MARKERS)]
        every = max(1, len(p) // 10)
        ax.plot(p[:, 0], p[:, 1], "-", color=color, marker=marker, markevery=every,
                markersize=5, lw=1.6, label=str(name), zorder=3)
        ax.plot(p[0, 0], p[0, 1], "o", markerfacecolor="none", markeredgecolor="k",
                markersize=10, zorder=4)
        ax.plot(p[-1, 0], p[-1, 1], marker, color=color, markersize=11, markeredgecolor="k",
                zorder=5)
    if paths:
        title = "ring: start, big marker: end"
        if fig is not None:
            plain_text(fig.legend(loc="outside right upper", fontsize="small", title=title,
                                  title_fontsize="small"))
        else:
            plain_text(ax.legend(loc="best", fontsize="small", title=title,
                                 title_fontsize="small"))


def landscape(f, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), *, paths=None, arrows=True, levels=30,
              resolution: int = 120, arrow_grid: int = 20, title=None, figsize=(6.4, 5.2)):
    """Contours of ``f: R^2 -> R`` with its gradient field and optimizer trajectories.

    Contour levels default to quantiles of ``f`` on the grid, so valleys as narrow as
    Rosenbrock's show; the fills are pale blues, so the paths carry the colour. Faint grey
    arrows (a ``Quiver``) point downhill, along ``-grad f`` computed by :func:`gradkit.grad`,
    with unit length. Each path has its own colour and marker (:data:`PATH_COLORS`,
    :data:`PATH_MARKERS`), its start ringed and its end a large marker; the legend is beside
    the axes.

    Args:
        f: a function of one point ``p`` (shape ``(2,)``) written in plain NumPy. If it also
            accepts a stacked grid (``p[0]``, ``p[1]`` of shape ``(H, W)``) it is evaluated in
            one call (checked against pointwise calls); otherwise point by point.
        xlim: the plotted range ``(min, max)`` of the first coordinate.
        ylim: the plotted range ``(min, max)`` of the second coordinate.
        paths: ``{name: array (k, 2)}`` of optimizer iterates.
        arrows: draw the gradient field.
        levels: the number of contour levels, or the levels themselves.
        resolution: grid points per axis for the contours.
        arrow_grid: grid points per axis for the arrows.
        title: the title (shown as plain text); None for ``"landscape, arrows along -gradient"``.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: if a path is not an array of shape ``(k, 2)``.

    Examples:
        >>> import numpy as np
        >>> fig = landscape(lambda p: p[0] ** 2 + 3 * p[1] ** 2, paths={"gd": [[1, 1], [0, 0]]})
        >>> len(fig.axes[0].get_lines())
        3
    """
    fig, ax = new_figure(figsize=figsize)
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    XX, YY = np.meshgrid(xs, ys)
    Z, vectorised = _grid_values(f, XX, YY)
    lv = _levels(Z, levels)
    # a light landscape: pale fills and thin grey contours, so the paths carry the colour
    filled = ax.contourf(XX, YY, Z, levels=lv, cmap="Blues", alpha=0.3, extend="both")
    ax.contour(XX, YY, Z, levels=lv, colors="0.6", linewidths=0.3, alpha=0.6)
    fig.colorbar(filled, ax=ax, label="f", location="left")
    if arrows:
        ax_, ay_ = np.linspace(*xlim, arrow_grid), np.linspace(*ylim, arrow_grid)
        AX, AY = np.meshgrid(ax_, ay_)
        with np.errstate(all="ignore"):
            G = np.asarray(_grid_gradients(f, AX, AY, vectorised), dtype=float)
            norm = np.hypot(G[0], G[1])
            safe = np.where(norm > 0, norm, 1.0)
            # faint arrows under the paths: they show the field without hiding the race
            ax.quiver(AX, AY, -G[0] / safe, -G[1] / safe, color="0.55", angles="xy",
                      pivot="mid", alpha=0.45, width=0.003, zorder=2)
    _draw_paths(ax, paths, fig)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    plain_text(ax.set_title(title or "landscape, arrows along -gradient"))
    return fig


# ----------------------------------------------------------------------------- model losses
def _filter_normalised(params, rng):
    """A random direction with each filter scaled to the norm of the weights' filter."""
    def one(w):
        w = np.asarray(w, dtype=float)
        d = rng.standard_normal(w.shape)
        if w.ndim >= 2:  # a filter = one output unit = a slice along the last axis
            axes = tuple(range(w.ndim - 1))
            wn = np.sqrt(np.sum(w ** 2, axis=axes, keepdims=True))
            dn = np.sqrt(np.sum(d ** 2, axis=axes, keepdims=True))
        else:
            wn, dn = np.linalg.norm(w), np.linalg.norm(d)
        return d * np.divide(wn, dn, out=np.zeros_like(wn * dn, dtype=float), where=dn > 0)
    return ravel_pytree(tree_map(one, params))[0]


def _flat(direction, size, what):
    d = ravel_pytree(direction)[0] if not isinstance(direction, np.ndarray) else direction.ravel()
    if d.size != size:
        raise ValueError(f"{what} has {d.size} entries but the parameters have {size}; give "
                         "a pytree shaped like params or a flat array.")
    return np.asarray(d, dtype=float)


def loss_slice(loss, params, directions="random", trajectory=None, *, span: float = 1.0,
               resolution: int = 25, levels=25, rng=None, title=None, figsize=(6.4, 5.2)):
    """A 2-D slice of a model's loss through ``params``: ``L(theta + a d1 + b d2)``.

    Directions (Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural
    Nets", NeurIPS 2018):

    - ``"random"``: Gaussian directions, *filter-normalised*: each filter of ``d`` (for a
      weight array, the slice along its last axis, one output unit of ``x @ W``) is scaled
      to the norm of the same filter of ``theta``, so the plot does not depend on the scale
      of each layer. A 1-D array (bias, vector of coefficients) is one filter.
    - ``"pca"``: the two main directions of ``trajectory - theta`` (the iterates relative to
      the final point), which show the path itself; the title gives the share of its
      variance they explain.
    - ``(d1, d2)``: two directions, pytrees shaped like ``params`` or flat arrays.

    Args:
        loss: ``loss(params) -> number`` (plain NumPy; no gradient is taken).
        params: the centre of the slice (usually the trained parameters), any pytree.
        directions: as above.
        trajectory: optional sequence of parameter pytrees (or an array ``(k, p)`` of flat
            parameters) drawn projected on the slice, start and end marked.
        span: the range ``[-span, span]`` of ``a`` and ``b`` (for ``"pca"``: the range of the
            projected trajectory, widened by ``span`` times its extent / 2).
        resolution: grid points per axis (``resolution ** 2`` loss evaluations).
        levels: contour levels (a number or the levels).
        rng: seed or ``numpy.random.Generator`` for the random directions.
        title: the title (shown as plain text); None for one naming the directions.
        figsize: the figure's ``(width, height)`` in inches.

    Returns:
        The ``matplotlib.figure.Figure``.

    Raises:
        ValueError: for an unknown ``directions``, ``"pca"`` without a trajectory of at least
            three distinct points, or directions of the wrong size.

    Examples:
        >>> import numpy as np
        >>> fig = loss_slice(lambda p: np.sum(p["w"] ** 2), {"w": np.ones(3)}, rng=0, resolution=9)
        >>> fig.axes[0].get_xlabel()
        'direction 1'
    """
    theta, unravel = ravel_pytree(params)
    theta = np.asarray(theta, dtype=float)
    traj = None
    if trajectory is not None:
        if isinstance(trajectory, np.ndarray) and trajectory.ndim == 2:
            traj = np.asarray(trajectory, dtype=float)
        else:
            traj = np.array([ravel_pytree(p)[0] for p in trajectory], dtype=float)
        if traj.ndim != 2 or traj.shape[1] != theta.size:
            raise ValueError(f"trajectory points have {traj.shape[-1]} entries, the parameters "
                             f"{theta.size}.")
    label = "random filter-normalised directions"
    if isinstance(directions, str) and directions == "random":
        gen = np.random.default_rng(rng)
        d1, d2 = _filter_normalised(params, gen), _filter_normalised(params, gen)
    elif isinstance(directions, str) and directions == "pca":
        if traj is None or traj.shape[0] < 3:
            raise ValueError("directions='pca' needs trajectory= with at least three points "
                             "(the iterates of a training run).")
        _, s, vt = np.linalg.svd(traj - theta, full_matrices=False)
        if s.size < 2 or s[1] <= 1e-12 * max(s[0], 1e-300):
            raise ValueError("directions='pca': the trajectory moves along fewer than two "
                             "directions; use directions='random'.")
        d1, d2 = vt[0], vt[1]
        share = s[:2] ** 2 / np.sum(s ** 2)
        label = f"PCA of the trajectory ({share[0]:.0%} + {share[1]:.0%} of its variance)"
    elif isinstance(directions, (tuple, list)) and len(directions) == 2:
        d1 = _flat(directions[0], theta.size, "directions[0]")
        d2 = _flat(directions[1], theta.size, "directions[1]")
        label = "given directions"
    else:
        raise ValueError(f"directions={directions!r}: use 'random', 'pca' or a pair (d1, d2).")
    D = np.stack([d1, d2], axis=1)
    coords = None
    if traj is not None:
        coords = np.linalg.lstsq(D, (traj - theta).T, rcond=None)[0].T  # (k, 2)
    if isinstance(directions, str) and directions == "pca":
        lo, hi = coords.min(axis=0), coords.max(axis=0)
        pad = np.maximum((hi - lo) * span / 2, 1e-8)
        (alo, blo), (ahi, bhi) = lo - pad, hi + pad
    else:
        alo = blo = -span
        ahi = bhi = span
    a = np.linspace(alo, ahi, resolution)
    b = np.linspace(blo, bhi, resolution)
    A, B = np.meshgrid(a, b)
    with np.errstate(all="ignore"):
        Z = np.array([float(loss(unravel(theta + ai * d1 + bi * d2)))
                      for ai, bi in zip(A.ravel(), B.ravel())]).reshape(A.shape)
    fig, ax = new_figure(figsize=figsize)
    lv = _levels(Z, levels)
    filled = ax.contourf(A, B, Z, levels=lv, cmap="viridis", extend="both")
    ax.contour(A, B, Z, levels=lv, colors="k", linewidths=0.4, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="loss")
    ax.plot(0.0, 0.0, "*", color="w", markersize=14, markeredgecolor="k", label="params")
    if coords is not None:
        _draw_paths(ax, {"trajectory": coords})
    else:
        plain_text(ax.legend(loc="best", fontsize="small"))
    ax.set_xlabel("direction 1")
    ax.set_ylabel("direction 2")
    plain_text(ax.set_title(title or f"loss slice: {label}", fontsize="medium"))
    return fig
