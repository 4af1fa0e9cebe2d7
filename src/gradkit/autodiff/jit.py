r"""Compiled steps: ``gk.jit(f)`` records the NumPy calls ``f`` makes once, then replays them.

How a call runs
---------------
The first call with a new *signature* (the pytree structure of the arguments, the shape,
dtype and strides of every array in it, the value of everything else) runs ``f`` for real on
:class:`JitValue`\ s: an array type of its own, as a CuPy array is, holding the real array.
NumPy routes every call that sees one here (operators, ufuncs and their methods,
``__array_function__``, indexing, writes, array methods), and each is computed on the real
arrays and appended to a :class:`Recording`. The derivative traces inside ``f`` (``grad``,
``hvp``, ``vmap``) treat a JitValue as a value, so their backward passes are recorded too: a
flat list of NumPy calls, forward and backward. A call that sees no JitValue (``np.eye(3)``,
arithmetic on constants, the engine's shape logic) runs once, now: constants are folded for
free.

The recording becomes Python source, one statement per NumPy call (``print(jitted.source)``),
after dropping what no output needs; names are reused as values die, so memory is freed as
the hand-written code would free it. Later calls with the same signature run that function:
the NumPy calls and nothing else. Because it makes the same calls on the same kinds of
values, a replay gives the same bits as ``f`` itself.

The first call's result is ``f``'s own (it ran for real), so a trace that has to be given up
halfway costs nothing: ``f`` simply finishes eagerly.

Guards: never a wrong replay
----------------------------
Anything that makes a recording unsafe to replay marks it *poisoned*; the signature then runs
eagerly, and a warning naming the line says why, once:

- a traced value turned into a Python value (``if x > 0``, ``bool``, ``float``, ``int``,
  ``.item()``, ``np.asarray``, use as an index of a Python list): the program would bake in
  this call's branch;
- a NumPy call that returns a Python number computed from the values;
- a write into an array that was not made from the arguments (``np.add(x, 1, out=buf)``
  with a ``buf`` from outside): a replay would write into that array again;
- random numbers drawn inside ``f`` (NumPy's global generator, or a ``Generator`` /
  ``RandomState`` that ``f`` reaches), which a replay would repeat;
- ``f`` changing an array it closes over.

Before each replay, the arrays and numbers ``f`` reaches (its closure, the globals it names,
its defaults, the attributes of a bound method's object, one level into lists, dicts and
functions) are compared with what they were when it was traced: the same objects, the same
bytes. A difference retraces (a warning the first time); a signature that keeps changing
runs eagerly.

What is not captured (as with ``jax.jit``): Python side effects inside ``f`` (``print``,
appending to a list) happen on the first call only; state ``f`` reaches only through
objects deeper than the scan (an array inside an object inside a list) is read as it was at
trace time. Pass such state as an argument: arguments are never baked in.
"""
from __future__ import annotations

import functools
import sys
import types
import warnings

import numpy as np

from .staging import _RESERVED, JitValue, Recording, _Miss, compiled
from ..tree import tree_flatten, tree_unflatten

__all__ = ["jit", "Jitted", "JitValue", "Recording", "JitWarning"]

_ndarray = np.ndarray
_generic = np.generic


class JitWarning(UserWarning):
    """A compiled step runs eagerly, or was traced again, and why (given once, naming the
    line that caused it).

    Examples:
        >>> import warnings
        >>> import numpy as np
        >>> import gradkit as gk
        >>> noisy = gk.jit(lambda x: x + np.random.normal(size=x.shape))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = noisy(np.zeros(2))
        >>> caught[0].category.__name__, noisy.eager
        ('JitWarning', ['f draws random numbers (a replay would repeat them)'])
    """


# ----------------------------------------------------------------------------- guards
_SKIP_MODULES = ("numpy", "scipy", "sklearn", "pandas", "matplotlib", "builtins", "dask",
                 "cupy")
_SCALARS = (int, float, bool, complex, str, type(None))
_MAX_GUARDS = 512
_GENERATORS = (np.random.Generator, np.random.RandomState)
_SMALL_BYTES = 1 << 16


def _bytes_of(a):
    a = np.ascontiguousarray(a)
    return memoryview(a.reshape(-1).view(np.uint8)) if a.size else b""


class _Guards:
    """What ``f`` reaches besides its arguments, as it was when it was traced."""

    __slots__ = ("items", "rngs", "truncated")

    def __init__(self, fun):
        self.items = []   # (holder, key, kind, object, snapshot)
        self.rngs = []    # (generator, state)
        self.truncated = False
        if fun is not None:  # (None: the caller vouches for what f closes over)
            self._scan(fun, 0, set())

    def deepen(self, consts):
        """Compare large arrays byte for byte too, when the program holds an array that is
        neither one of them nor a view of one: ``f`` computed it with plain NumPy, perhaps
        from one of them, and a change in place would leave it stale. (Without such a
        constant, the program reads those arrays themselves, so a change in place is seen.)"""
        reached = {id(obj) for _, _, _, obj, _ in self.items if type(obj) is _ndarray}
        for c in consts:
            if type(c) is _ndarray:
                b = c
                while b is not None and id(b) not in reached:
                    b = b.base
                if b is None:
                    break
            elif isinstance(c, _generic):
                break
        else:
            return
        self.items = [(h, k, kind, obj, bytes(_bytes_of(obj)) if snap is None else snap)
                      if type(obj) is _ndarray else (h, k, kind, obj, snap)
                      for h, k, kind, obj, snap in self.items]

    def _add(self, holder, key, kind, value, depth, seen):
        if len(self.items) >= _MAX_GUARDS:
            self.truncated = True
            return
        t = type(value)
        if t is _ndarray:  # small arrays: their bytes; large ones: see `deepen`
            self.items.append((holder, key, kind, value, bytes(_bytes_of(value))
                               if value.nbytes <= _SMALL_BYTES else None))
        elif t in _SCALARS or isinstance(value, _generic):
            self.items.append((holder, key, kind, value, value))
        elif isinstance(value, (np.random.Generator, np.random.RandomState)):
            if id(value) not in seen:
                seen.add(id(value))
                self.rngs.append((value, _rng_state(value)))
        elif depth < 3 and id(value) not in seen:
            seen.add(id(value))
            if t is list or t is tuple:
                self.items.append((holder, key, kind, value, len(value)))
                for i, v in enumerate(value[:64]):
                    self._add(value, i, "item", v, depth + 1, seen)
            elif t is dict:
                self.items.append((holder, key, kind, value, len(value)))
                for k, v in list(value.items())[:64]:
                    self._add(value, k, "item", v, depth + 1, seen)
            else:
                self._scan(value, depth + 1, seen)

    def _scan(self, fun, depth, seen):
        if isinstance(fun, functools.partial):
            self._scan(fun.func, depth, seen)
            for i, a in enumerate(fun.args):
                self._add(fun.args, i, "item", a, depth + 1, seen)
            for k, v in fun.keywords.items():
                self._add(fun.keywords, k, "item", v, depth + 1, seen)
            return
        if isinstance(fun, types.MethodType):
            self._scan(fun.__func__, depth, seen)
            self._scan(fun.__self__, depth, seen)
            return
        if isinstance(fun, types.FunctionType):
            module = getattr(fun, "__module__", "") or ""
            if module.split(".")[0] in _SKIP_MODULES:
                return
            for cell in fun.__closure__ or ():
                try:
                    v = cell.cell_contents
                except ValueError:  # an empty cell (a name assigned later)
                    continue
                self._add(cell, None, "cell", v, depth, seen)
            for i, v in enumerate(fun.__defaults__ or ()):
                self._add(fun.__defaults__, i, "item", v, depth, seen)
            if not module.startswith("gradkit"):  # gradkit's own globals are not user state
                g = fun.__globals__
                for name in _global_names(fun.__code__):
                    if name in g and not isinstance(g[name], types.ModuleType):
                        self._add(g, name, "item", g[name], depth, seen)
            return
        if isinstance(fun, (types.BuiltinFunctionType, type, types.ModuleType, np.ufunc)):
            return
        module = type(fun).__module__.split(".")[0]
        if module in _SKIP_MODULES:
            return
        d = getattr(fun, "__dict__", None)
        if isinstance(d, dict):
            for k, v in list(d.items())[:128]:
                self._add(d, k, "item", v, depth, seen)
        call = getattr(type(fun), "__call__", None)
        if isinstance(call, types.FunctionType):
            self._scan(call, depth + 1, seen)

    def changed(self):
        """The first thing that differs from the trace (a description), or None."""
        for holder, key, kind, obj, snap in self.items:
            try:
                now = holder.cell_contents if kind == "cell" else holder[key]
            except (KeyError, IndexError, ValueError):
                return f"{_label(kind, key)} is gone"
            t = type(obj)
            if t is _ndarray:
                if now is not obj:
                    return f"{_label(kind, key)} is another array"
                if snap is not None and _bytes_of(now) != snap:
                    return f"the array {_label(kind, key)} was changed in place"
            elif t is list or t is tuple or t is dict:
                if now is not obj or len(now) != snap:
                    return f"{_label(kind, key)} changed"
            elif now is not obj and (type(now) is not t or now != snap):
                return f"{_label(kind, key)} changed from {snap!r} to {now!r}"
        return None

    def rng_drawn(self):
        for g, state in self.rngs:
            if not _same_state(_rng_state(g), state):
                return True
        return False


def _label(kind, key):
    return "a value f closes over" if kind == "cell" else repr(key)


def _rng_state(g):
    return g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()


def _same_state(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def _global_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _global_names(c)
    return names


# ----------------------------------------------------------------------------- jit
_EAGER = object()
_MAX_RETRACES = 3
_MAX_MISSES = 3
_MAX_PROGRAMS = 64


def _walk(x, leaves, spec):
    """Flatten the common arguments (arrays, NumPy scalars, dicts, lists, tuples, Python
    numbers and strings) into ``leaves`` (the values the program takes) and ``spec`` (the
    signature: structure, shapes, dtypes, strides, and the static values); False for
    anything else."""
    t = type(x)
    if t is _ndarray:
        leaves.append(x)
        spec.append((x.shape, x.dtype, x.strides))
        return True
    if t is dict:
        spec.append(("dict",) + tuple(x))
        for v in x.values():
            if not _walk(v, leaves, spec):
                return False
        return True
    if t is tuple or t is list or isinstance(x, tuple) and hasattr(x, "_fields"):
        spec.append((t, len(x)))  # (a namedtuple: an optimizer's state)
        for v in x:
            if not _walk(v, leaves, spec):
                return False
        return True
    if t is int or t is float or t is complex:  # traced, as JAX traces Python numbers
        leaves.append(x)
        spec.append(t)
        return True
    if t in _SCALARS:  # bool, str, None: static
        spec.append((t, x))
        return True
    if t in _GENERATORS:  # static, by identity; a draw from it is seen (_trace)
        spec.append((t, x))
        return True
    if isinstance(x, _generic):
        leaves.append(x)
        spec.append((t, x.dtype))
        return True
    return False


def _generators(args, kwargs):
    """The NumPy random generators among the arguments (top level and one level down)."""
    found = []
    for a in list(args or ()) + list((kwargs or {}).values()):
        if isinstance(a, _GENERATORS):
            found.append(a)
        elif isinstance(a, (list, tuple)):
            found.extend(v for v in a if isinstance(v, _GENERATORS))
        elif isinstance(a, dict):
            found.extend(v for v in a.values() if isinstance(v, _GENERATORS))
    return found


def _aliases(leaves):
    """``()`` when no array is among ``leaves`` twice, else the position of each array's
    first occurrence (Python numbers are shared objects, not aliases)."""
    arrays = [id(a) for a in leaves if type(a) is _ndarray]
    if len(set(arrays)) == len(arrays):
        return ()
    first = {}
    return tuple(first.setdefault(i, n) for n, i in enumerate(arrays))


def _key(spec, leaves):
    """The cache key of a signature: ``spec`` and which leaves are the same array (an array
    passed twice), as a hashable tuple; None where a static value cannot be hashed."""
    aliases = _aliases(leaves)
    if aliases:
        spec.append(aliases)
    key = tuple(spec)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _traced_leaf(x):
    t = type(x)
    return t is _ndarray or t is int or t is float or t is complex or isinstance(x, _generic)


def _replaced(x, it):
    t = type(x)
    if _traced_leaf(x):
        return next(it)
    if t is dict:
        return {k: _replaced(v, it) for k, v in x.items()}
    if t is tuple or t is list:
        return t([_replaced(v, it) for v in x])
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return t(*[_replaced(v, it) for v in x])
    return x


def _with_statics(args, nums, statics):
    if not nums:
        return args
    args = list(args)
    for i, v in zip(nums, statics):
        args[i] = v
    return tuple(args)


def _rebuilt(nums, statics, args, kwargs, boxes):
    it = iter(boxes)
    return _with_statics(_replaced(args, it), nums, statics), _replaced(kwargs, it)


class _Program:
    __slots__ = ("fn", "source", "guards", "out_tree", "out_plan", "retraces", "misses", "key",
                 "enter")

    def run(self, leaves):
        outs = self.fn(*leaves)
        plan = self.out_plan
        if plan is False:  # the program builds the result itself
            return outs
        if plan is None:  # every output leaf comes from the program
            if self.out_tree is None:
                return outs[0]
            return tree_unflatten(self.out_tree, outs)
        it = iter(outs)
        leaves = [next(it) if kind == 0 else np.copy(v) if kind == 1 else v
                  for kind, v in plan]
        return tree_unflatten(self.out_tree, leaves)


_NO_MATCH = object()


def _entry(prog, args, kwargs, static_nums, statics):
    """A generated ``enter(args, kwargs)``: checks that a call has this program's signature
    (the same checks as the cache key, written out for these arguments) and runs it, or
    returns ``_NO_MATCH``. It saves the walk and the key on every call of a training loop."""
    ns = {"NO": _NO_MATCH, "ndarray": _ndarray}
    lines, leaves = [], []
    count = [0]

    def const(v):
        name = f"k{len(ns)}"
        ns[name] = v
        return name

    def local():
        count[0] += 1
        return f"a{count[0]}"

    def check(expr, x):
        t = type(x)
        name = local()
        lines.append(f"{name} = {expr}")
        if t is _ndarray:
            lines.append(f"if type({name}) is not ndarray or {name}.shape != {x.shape!r} or "
                         f"{name}.dtype is not {const(x.dtype)} or {name}.strides != "
                         f"{x.strides!r}: return NO")
            leaves.append(name)
        elif t is int or t is float or t is complex or isinstance(x, _generic):
            lines.append(f"if type({name}) is not {const(t)}: return NO")
            leaves.append(name)
        elif t is dict:
            lines.append(f"if type({name}) is not dict or tuple({name}) != {const(tuple(x))}:"
                         " return NO")
            for k, v in x.items():
                check(f"{name}[{const(k)}]", v)
        elif t is tuple or t is list or isinstance(x, tuple) and hasattr(x, "_fields"):
            lines.append(f"if type({name}) is not {const(t)} or len({name}) != {len(x)}: "
                         "return NO")
            for i, v in enumerate(x):
                check(f"{name}[{i}]", v)
        elif t in _GENERATORS:  # the same generator object
            lines.append(f"if {name} is not {const(x)}: return NO")
        else:  # bool, str, None: static values
            lines.append(f"if type({name}) is not {const(t)} or {name} != {const(x)}: "
                         "return NO")

    lines.append(f"if len(args) != {len(args)} or len(kwargs) != {len(kwargs)}: return NO")
    statics = dict(zip(static_nums, statics))
    for i, a in enumerate(args):
        if i in statics:
            v = statics[i]
            lines.append(f"if type(args[{i}]) is not {const(type(v))} or args[{i}] != "
                         f"{const(v)}: return NO")
        else:
            check(f"args[{i}]", a)
    if kwargs:
        lines.append(f"if tuple(kwargs) != {const(tuple(kwargs))}: return NO")
        for k, v in kwargs.items():
            check(f"kwargs[{k!r}]", v)
    if prog.out_plan is False:
        ns["fn"] = prog.fn
        lines.append(f"return fn({', '.join(leaves)})")
    else:
        ns["run"] = prog.run
        lines.append(f"return run(({', '.join(leaves)}{',' if len(leaves) == 1 else ''}))")
    source = "def enter(args, kwargs):\n" + "".join(f"    {ln}\n" for ln in lines)
    exec(compiled(source, "<gk.jit enter>"), ns)
    return ns["enter"]


def _result_source(rec, td, leaves, pieces):
    """Append to ``pieces`` the source that builds the result (structure ``td``, leaves from
    the iterator ``leaves``) in the program itself; False for a structure it cannot write
    (a namedtuple, a dataclass, a registered type: the pytree module rebuilds those)."""
    kind = td.kind
    if kind is None:
        leaf = next(leaves)
        if type(leaf) is JitValue:
            pieces.append(leaf._slot)
        elif type(leaf) is _ndarray:  # a constant array: a copy of its own on every call
            pieces.extend([f"{rec.name_of(np.copy, 'f')}(", rec.name_of(leaf), ")"])
        else:
            rec.arg(leaf, pieces, [])
        return True
    if kind is type(None):
        pieces.append("None")
        return True
    named = isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")
    if kind not in (dict, list, tuple) and not named:
        return False
    parts = []
    for child in td.children:
        part = []
        if not _result_source(rec, child, leaves, part):
            return False
        parts.append(part)
    if kind is dict:
        if not all(type(k) in (str, int) for k in td.aux):
            return False
        by_key = dict(zip(td.aux, parts))
        pieces.append("{")
        for i, k in enumerate(td.order or td.aux):
            pieces.append(f"{', ' if i else ''}{k!r}: ")
            pieces.extend(by_key[k])
        pieces.append("}")
        return True
    plain = named and _plain_namedtuple(kind)
    if plain:  # tuple.__new__(kind, (fields)): its C constructor, not namedtuple's Python one
        pieces.extend([f"{rec.name_of(tuple.__new__, 'f', 'tuple_new')}(",
                       rec.name_of(kind, "f"), ", ("])
    elif named:
        pieces.append(f"{rec.name_of(kind, 'f')}(")
    else:
        pieces.append("(" if kind is tuple else "[")
    for i, part in enumerate(parts):
        if i:
            pieces.append(", ")
        pieces.extend(part)
    pieces.append(",)" if (kind is tuple or plain) and len(parts) == 1 else
                  "]" if kind is list else ")")
    if plain:
        pieces.append(")")
    return True


def _plain_namedtuple(kind):
    """Whether ``kind`` (a namedtuple class) makes its instances with the ``__new__`` that
    ``collections.namedtuple`` writes, ``tuple.__new__(kind, fields)``: then the program calls
    that directly (about 100 ns less per state; a class of its own ``__new__`` keeps it)."""
    code = getattr(kind.__new__, "__code__", None)
    return code is not None and code.co_filename == "<string>" and \
        code.co_names == ("_tuple_new",)


def _tree_key(td):
    return (td.kind, td.aux, td.order, tuple(_tree_key(c) for c in td.children))


class Jitted:
    """A function compiled by :func:`jit`: call it as the function itself.

    Args:
        fun: the function.
        static_argnums: positions of arguments that are part of the signature by value
            (``jit``'s argument).
        check_closure: whether a replay first checks that the arrays the function reads from
            its closure are unchanged (``jit``'s argument).
        quiet: no :class:`JitWarning` when a signature runs eagerly (for callers with an
            eager path of their own: the estimators).

    Attributes:
        fun: the function.
        source: the Python source of the most recent program (``None`` before one exists).
        eager: the reasons each signature runs eagerly, in the order they were found.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> f = gk.jit(lambda x: np.tanh(x) * 2.0)
        >>> type(f).__name__, f(np.zeros(2))
        ('Jitted', array([0., 0.]))
        >>> print(f.source)
        def step(x0):
            v1 = tanh(x0)
            v1 = v1 * num1
            return v1
        <BLANKLINE>
    """

    def __init__(self, fun, static_argnums=(), check_closure=True, quiet=False):
        if not callable(fun):
            raise TypeError(f"gk.jit: expected a function, got {type(fun).__name__}.")
        self.fun = fun
        self.check_closure = check_closure
        self.quiet = quiet  # no JitWarning (a caller with its own eager path: the estimators)
        self.static_argnums = tuple(sorted(
            (static_argnums,) if isinstance(static_argnums, int) else static_argnums))
        self.source = None
        self.eager = []
        self._programs = {}
        self._last = None  # the program of the latest call, tried first (its `enter`)
        self._full = False
        functools.update_wrapper(self, fun, updated=())

    def __repr__(self):
        return f"gk.jit({getattr(self.fun, '__name__', self.fun)!r})"

    def __get__(self, obj, objtype=None):  # a jitted method
        return self if obj is None else functools.partial(self, obj)

    def _signature(self, args, kwargs):
        """``(key, traced leaves, rebuild)``: the cache key of a call (None: run eagerly),
        the arrays it passes to the program, and ``rebuild(boxes)`` -> ``(args, kwargs)``
        with those replaced (for tracing)."""
        if not kwargs and not self.static_argnums and len(args) == 1 \
                and type(args[0]) is _ndarray:  # the commonest call: one array
            a = args[0]
            return (a.shape, a.dtype, a.strides), args, lambda boxes: ((boxes[0],), {})
        statics = ()
        if self.static_argnums:
            args = list(args)
            statics = tuple(args[i] for i in self.static_argnums if i < len(args))
            for i in self.static_argnums:
                if i < len(args):
                    args[i] = None
            args = tuple(args)
        leaves, spec = [], []
        if _walk(args, leaves, spec) and _walk(kwargs, leaves, spec):
            spec.append(statics)
            key = _key(spec, leaves)
            if key is None:
                return None, None, None
            return key, leaves, functools.partial(_rebuilt, self.static_argnums, statics,
                                                  args, kwargs)
        # anything else: the pytree module (namedtuples, dataclasses, registered types)
        all_leaves, treedef = tree_flatten((args, kwargs))
        spec = ["tree", _tree_key(treedef), statics]
        leaves = []
        for leaf in all_leaves:  # each leaf as _walk sees it; any other object is static
            if _walk(leaf, leaves, spec):
                continue
            t = type(leaf)
            if t is JitValue or t.__module__.startswith("gradkit.autodiff"):
                return None, None, None  # inside another transformation: run as it is
            spec.append((t, leaf))
        key = _key(spec, leaves)
        if key is None:
            return None, None, None

        def rebuild(boxes):
            it = iter(boxes)
            new = [next(it) if _traced_leaf(v) else v for v in all_leaves]
            a, k = tree_unflatten(treedef, new)
            return _with_statics(a, self.static_argnums, statics), k
        return key, leaves, rebuild

    def __call__(self, *args, **kwargs):
        last = self._last
        if last is not None and (not last.guards.items or last.guards.changed() is None):
            try:
                out = last.enter(args, kwargs)  # the last signature's own check, generated
            except _Miss:
                out = self._missed(last, args, kwargs)
            if out is not _NO_MATCH:
                return out
        key, traced, rebuild = self._signature(args, kwargs)
        if key is None:
            return self.fun(*args, **kwargs)
        prog = self._programs.get(key)
        if prog is _EAGER:
            return self.fun(*args, **kwargs)
        if prog is not None:
            why = prog.guards.changed() if prog.guards.items else None
            if why is None:
                self._last = prog if prog.enter is not None else None
                try:
                    return prog.run(traced)
                except _Miss:
                    return self._missed(prog, args, kwargs)
            prog.retraces += 1
            if prog.retraces >= _MAX_RETRACES:
                self._give_up(key, f"{why} (traced {_MAX_RETRACES} times)", "")
                return self.fun(*args, **kwargs)
            self._warn(f"{why}; tracing again", "")
        if prog is None and len(self._programs) >= _MAX_PROGRAMS:
            if not self._full:
                self._full = True
                self._warn(f"has traced {_MAX_PROGRAMS} signatures (shapes, dtypes, static "
                           "values); new ones run eagerly", "")
            return self.fun(*args, **kwargs)
        return self._trace(key, traced, rebuild, 0 if prog is None else prog.retraces,
                           args, kwargs)

    def _missed(self, prog, args, kwargs):
        """A replay's value went another way than the trace's at a guard: run eagerly."""
        prog.misses += 1
        if prog.misses >= _MAX_MISSES:
            self._last = None
            self._give_up(prog.key, f"a branch went another way than when traced "
                                    f"({prog.misses} times)", "")
        return self.fun(*args, **kwargs)

    def _trace(self, key, traced, rebuild, retraces, args=None, kwargs=None):
        guards = _Guards(self.fun if self.check_closure else None)
        for a in _generators(args, kwargs):  # generators passed as arguments
            guards.rngs.append((a, _rng_state(a)))
        global_rng = np.random.get_state(legacy=False)
        rec = Recording()
        # constants made from a backward pass's seed are harmless where no large array f
        # closes over is read live (else `_Guards.deepen` would compare it byte for byte)
        rec.constant_seeds = not any(snap is None and type(obj) is _ndarray
                                     for _, _, _, obj, snap in guards.items)
        call_args, call_kwargs = rebuild([rec.input(a) for a in traced])
        out = self.fun(*call_args, **call_kwargs)
        out_leaves, out_tree = tree_flatten(out)
        plan, slots, plain = [], [], []
        for leaf in out_leaves:
            t = type(leaf)
            if t is JitValue and leaf._rec is rec:
                plan.append((0, None))
                slots.append(leaf._slot)
                plain.append(leaf._array)
            elif t is _ndarray:
                plan.append((1, leaf))
                plain.append(np.copy(leaf))
            elif t in _SCALARS or isinstance(leaf, _generic):
                plan.append((2, leaf))
                plain.append(leaf)
            else:
                rec.poison(f"f returns a {t.__name__}, which a replay cannot rebuild", "")
                plain.append(leaf)
        if not _same_state(np.random.get_state(legacy=False), global_rng) or \
                guards.rng_drawn():
            rec.poison("f draws random numbers (a replay would repeat them)", "")
        changed = guards.changed()
        if changed is not None:
            rec.poison(f"f changes what it closes over ({changed})", "")
        if guards.truncated:
            rec.poison("f reaches too many arrays and numbers to check before each replay", "")
        if rec.guards and rec.writes_inputs:
            rec.poison("f branches on values and writes into its arguments (a replay that "
                       "branched otherwise could not be undone)", "")
        result = tree_unflatten(out_tree, plain)
        rec.done = True
        if rec.poisoned is not None:
            self._give_up(key, *rec.poisoned)
            return result
        guards.deepen(rec.consts.values())
        prog = _Program()
        ret = []
        built = _result_source(rec, out_tree, iter(out_leaves), ret)
        prog.fn, prog.source = rec.compile(slots, _program_name(self.fun),
                                           ret if built else None)
        prog.guards = guards
        prog.retraces = retraces
        prog.misses = 0
        if built:
            prog.out_plan = False
        else:
            single = out_tree.kind is None and plan[0][0] == 0
            prog.out_tree = None if single else out_tree
            prog.out_plan = None if all(kind == 0 for kind, _ in plan) else plan
        prog.key = key
        prog.enter = None
        if isinstance(rebuild, functools.partial) and not rec.writes_inputs:
            prog.enter = _entry(prog, args, kwargs, self.static_argnums, rebuild.args[1])
        self._last = prog if prog.enter is not None else None
        self._programs[key] = prog
        self.source = prog.source
        return result

    def _give_up(self, key, why, where):
        self._programs[key] = _EAGER
        if self._last is not None and self._last.key == key:
            self._last = None
        self.eager.append(why)
        self._warn(f"runs eagerly: {why}", where)

    def _warn(self, what, where):
        if self.quiet:
            return
        name = getattr(self.fun, "__name__", "the function")
        at = f" (at {where})" if where else ""
        level, frame = 1, sys._getframe(0)
        while frame is not None and frame.f_code.co_filename == __file__:
            level, frame = level + 1, frame.f_back
        warnings.warn(f"gk.jit({name}) {what}{at}.", JitWarning, stacklevel=level)


def _program_name(fun):
    name = getattr(fun, "__name__", "step")
    return name if name.isidentifier() and name not in _RESERVED else "step"


def jit(fun=None, *, static_argnums=(), check_closure=True):
    """Compile ``fun``: trace its NumPy calls once per signature, then replay them.

    ``jit(f)`` is called as ``f``. The first call with new argument shapes, dtypes or
    structure runs ``f`` for real while recording each NumPy call it makes (through every
    transformation inside it: ``jit(value_and_grad(loss))`` records the forward and the
    backward pass); later calls run the recorded calls as one Python function, with nothing
    else in between. The results are the same, to the bit, as ``f``'s.

    Python numbers, strings and other hashable non-array arguments are *static*: each value
    is its own signature (pass a 0-d array for a number that changes every call). A
    recording that a replay could get wrong (a branch on a traced value, random numbers,
    ``f`` changing the arrays it closes over) is never used: that signature runs eagerly and
    a :class:`JitWarning` says why, once. See the module docs for the guards.

    Args:
        fun: the function (its arguments: pytrees of arrays and static values).
        static_argnums: positions of further arguments to treat as static (hashable values).
        check_closure: compare what ``fun`` reaches besides its arguments (closures, globals,
            a bound object's attributes) before each replay. ``False`` treats it as constant,
            as ``jax.jit`` does: for a caller that knows it does not change (gradkit's
            estimators, whose training step reads only the hyperparameters of the fit).

    Returns:
        A :class:`Jitted` callable; ``.source`` shows the program.

    Examples:
        >>> import numpy as np
        >>> import gradkit as gk
        >>> step = gk.jit(gk.grad(lambda x: np.sum(np.sin(x) * x)))
        >>> x = np.array([0.5, 1.0])
        >>> bool(np.all(step(x) == gk.grad(lambda x: np.sum(np.sin(x) * x))(x)))
        True
        >>> np.round(step(x), 6)  # the replay
        array([0.918217, 1.381773])
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 check_closure=check_closure)
    if isinstance(fun, Jitted):
        return fun
    return Jitted(fun, static_argnums, check_closure)
