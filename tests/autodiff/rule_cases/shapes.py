"""Cases for shape functions and indexing: joins, splits, repeats, pads, flips, rolls, sort,
gathers, and every kind of index (basic, integer with repeats, boolean, mixed, None, ...)."""
import numpy as np

R = np.random.default_rng(3)
S = np.array(0.6)
V = R.standard_normal(6)
A = R.standard_normal((3, 4))
B = R.standard_normal((3, 2))
T = R.standard_normal((2, 3, 4))
COL = R.standard_normal((3, 1))
IDX = np.array([[0, 2, 2, 1], [3, 0, 1, 1], [2, 2, 0, 3]])


def sq(x):
    """Square the result, so that second derivatives are not all zero."""
    if isinstance(x, (list, tuple)):
        return type(x)(sq(p) for p in x)
    return x * x


CASES = [
    # -- moving and dropping axes
    ("moveaxis", lambda t: sq(np.moveaxis(t, 0, -1)), (T,)),
    ("moveaxis-many", lambda t: sq(np.moveaxis(t, (0, 2), (1, 0))), (T,)),
    ("squeeze", lambda c: sq(np.squeeze(c)), (COL,)),
    ("squeeze-axis", lambda c: sq(np.squeeze(c[None], axis=(0, -1))), (COL,)),
    ("squeeze-method", lambda c: sq(c.squeeze(1)), (COL,)),
    ("ravel", lambda x: sq(np.ravel(x)), (A,)),
    ("ravel-F", lambda t: sq(np.ravel(t, order="F")), (T,)),
    ("flatten-F", lambda x: sq(x.flatten("F")), (A,)),
    ("swapaxes-method", lambda t: sq(t.swapaxes(0, -1)), (T,)),
    ("atleast_1d", lambda s: sq(np.atleast_1d(s)), (S,)),
    ("atleast_2d", lambda v, s: sq(np.atleast_2d(v, s)), (V, S)),
    ("atleast_3d", lambda v, x: sq(np.atleast_3d(v, x)), (V, A)),
    ("copy", lambda x: sq(np.copy(x)) + x.copy(), (A,)),
    ("astype", lambda x: sq(x.astype(np.float64)), (A,)),
    ("np.astype", lambda x: sq(np.astype(x, np.float64)), (A,)),
    ("broadcast_arrays", lambda c, x: sq(np.broadcast_arrays(c, x)), (COL, A)),
    # -- joining
    ("concatenate", lambda x, y: sq(np.concatenate([x, y], axis=1)), (A, B)),
    ("concatenate-axis0-constant", lambda x: sq(np.concatenate([x, A, x])), (A,)),
    ("concatenate-negative-axis", lambda x, c: sq(np.concatenate((c, x, c), axis=-1)), (A, COL)),
    ("concatenate-None", lambda x, v: sq(np.concatenate([x, v], axis=None)), (A, V)),
    ("concatenate-many", lambda v: sq(np.concatenate([v[i:i + 1] for i in range(6)] * 7)), (V,)),
    ("stack", lambda x, y: sq(np.stack([x, y, x])), (A, A[::-1].copy())),
    ("stack-negative-axis", lambda x: sq(np.stack([x, 2.0 * x], axis=-1)), (A,)),
    ("stack-scalars", lambda v: sq(np.stack([v[i] for i in range(6)] * 6)), (V,)),
    ("hstack-1d", lambda v: sq(np.hstack([v, S, v])), (V,)),
    ("hstack-2d", lambda x, y: sq(np.hstack((x, y))), (A, B)),
    ("vstack", lambda x, v: sq(np.vstack([x, v[:4]])), (A, V)),
    ("dstack", lambda x, y: sq(np.dstack([x, y])), (A, A.T.copy().T)),
    ("column_stack", lambda v, b: sq(np.column_stack([v[:3], b])), (V, B)),
    # -- splitting
    ("split", lambda v: sq(np.split(v, 3)), (V,)),
    ("split-indices", lambda x: sq(np.split(x, [1, 3], axis=1)), (A,)),
    ("array_split", lambda v: sq(np.array_split(v, 4)), (V,)),
    ("hsplit", lambda x: sq(np.hsplit(x, 2)), (A,)),
    ("vsplit", lambda x: sq(np.vsplit(x, [1])), (A,)),
    ("dsplit", lambda t: sq(np.dsplit(t, 2)), (T,)),
    # -- repeating
    ("tile", lambda x: sq(np.tile(x, 2)), (A,)),
    ("tile-more-reps", lambda v: sq(np.tile(v, (2, 1, 3))), (V,)),
    ("tile-fewer-reps", lambda t: sq(np.tile(t, (2, 1))), (T,)),
    ("repeat", lambda x: sq(np.repeat(x, 2)), (A,)),
    ("repeat-axis", lambda x: sq(np.repeat(x, 3, axis=-1)), (A,)),
    ("repeat-per-element", lambda x: sq(np.repeat(x, [2, 0, 1], axis=0)), (A,)),
    ("repeat-method", lambda v: sq(v.repeat([1, 2, 1, 0, 3, 1])), (V,)),
    # -- padding
    ("pad-constant", lambda x: sq(np.pad(x, 1)), (A,)),
    ("pad-constant-values", lambda x: sq(np.pad(x, ((1, 0), (2, 3)), constant_values=(1.5, -2.0))),
     (A,)),
    ("pad-edge", lambda x: sq(np.pad(x, (2, 1), mode="edge")), (A,)),
    ("pad-reflect", lambda v: sq(np.pad(v, 8, mode="reflect")), (V,)),
    ("pad-symmetric", lambda t: sq(np.pad(t, ((0, 0), (1, 2), (3, 0)), mode="symmetric")), (T,)),
    ("pad-wrap", lambda x: sq(np.pad(x, 2, mode="wrap")), (A,)),
    # -- reversing, rotating, rolling, differences
    ("flip", lambda t: sq(np.flip(t)), (T,)),
    ("flip-axis", lambda t: sq(np.flip(t, axis=(0, -1))), (T,)),
    ("fliplr-flipud", lambda x: sq(np.fliplr(x) + 2.0 * np.flipud(x)), (A,)),
    ("rot90", lambda x: sq(np.rot90(x)), (A,)),
    ("rot90-k", lambda t: sq((np.rot90(t, 2), np.rot90(t, -1, axes=(1, 2)))), (T,)),
    ("rot90-k3", lambda t: sq(np.rot90(t, 3, axes=(0, 2))), (T,)),
    ("roll", lambda v: sq(np.roll(v, 2)), (V,)),
    ("roll-flat", lambda x: sq(np.roll(x, -5)), (A,)),
    ("roll-axes", lambda t: sq(np.roll(t, (1, -2), axis=(0, 2))), (T,)),
    ("diff", lambda v: sq(np.diff(v)), (V,)),
    ("diff-n2-axis0", lambda x: sq(np.diff(x, n=2, axis=0)), (A,)),
    ("diff-prepend-append", lambda x, c: sq(np.diff(x, prepend=0.5, append=c)), (A, COL)),
    # -- sorting and gathering
    ("sort", lambda x: sq(np.sort(x)), (A,)),
    ("sort-axis0", lambda t: sq(np.sort(t, axis=0)), (T,)),
    ("sort-flat", lambda x: sq(np.sort(x, axis=None)), (A,)),
    ("take", lambda x: sq(np.take(x, [0, 5, 5, -1])), (A,)),
    ("take-axis", lambda t: sq(np.take(t, [[2, 0], [2, 2]], axis=1)), (T,)),
    ("take-wrap-method", lambda x: sq(x.take([4, -6, 1], axis=1, mode="wrap")), (A,)),
    ("take-scalar-index", lambda x: sq(np.take(x, 2, axis=-1)), (A,)),
    ("take_along_axis", lambda x: sq(np.take_along_axis(x, IDX, axis=1)), (A,)),
    ("take_along_axis-0", lambda x: sq(np.take_along_axis(x, IDX % 3, axis=0)), (A,)),
    ("take_along_axis-argsort", lambda t: sq(np.take_along_axis(t, np.argsort(T, 1), 1)), (T,)),
    ("take_along_axis-None", lambda x: sq(np.take_along_axis(x, np.array([11, 0, 0]), None)),
     (A,)),
    # -- indexing
    ("getitem-negative", lambda x: sq(x[-1, -3:]), (A,)),
    ("getitem-reverse-step", lambda t: sq(t[::-1, 1:, ::-2]), (T,)),
    ("getitem-None-Ellipsis", lambda t: sq(t[None, ..., 1, None]), (T,)),
    ("getitem-Ellipsis-int-array", lambda t: sq(t[..., [3, 3, -1]]), (T,)),
    ("getitem-2d-int-array", lambda v: sq(v[np.array([[0, 5], [5, 5]])]), (V,)),
    ("getitem-split-advanced", lambda t: sq(t[[0, 1, 1], :, [3, 0, 3]]), (T,)),
    ("getitem-mask-2d", lambda t: sq(t[T[..., 0] > 0]), (T,)),
    ("getitem-mask-and-slice", lambda t: sq(t[:, A[:, 0] > -10.0, 1:3]), (T,)),
    ("getitem-scalar-result", lambda x: sq(x[2, 1]), (A,)),
    ("iterate", lambda x: sq(sum(row[0] for row in x)), (A,)),
]
