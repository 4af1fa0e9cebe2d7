"""Every public function and class has a Google-style docstring: Args, Returns, Examples.

"Public" is the set the API reference is written from (``docs/apipages.py``): every name in
the ``__all__`` of every public module (no part of its dotted name starts with ``_``), each
object once. For each function and class:

* ``Args:`` when it takes arguments (a class: its constructor's), naming every argument
  (a dataclass or NamedTuple may name its fields under ``Attributes:``, or in ``#:``
  comments on the fields, instead);
* ``Returns:`` (or ``Yields:``) when a function returns a value;
* ``Examples:`` with at least one ``>>>`` line, and those examples are among the doctests
  that ``tests/test_doctests.py`` runs, so they run and print what they say.

Every public constant (a name of an ``__all__`` that is not a function or class) has a ``#:``
comment above its assignment: the API reference shows it (the docs build fails without one;
this test says so without Sphinx).

The sections are Google style, as the existing docstrings and Sphinx's napoleon read them.
"""
import ast
import doctest
import importlib
import inspect
import pathlib
import re
import sys
import textwrap

import pytest

from tests.test_doctests import MODULES, OPTIONAL

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "gradkit"

# Module files (relative to src/gradkit) whose docstrings are being rewritten on other branches
# (issue 17). Names defined there are skipped, and counted; remove an entry once it merges.
PENDING = set()

# The section headers napoleon's Google style knows (only these start a section).
SECTION = re.compile(r"^(Args|Arguments|Parameters|Keyword Args|Keyword Arguments|"
                     r"Other Parameters|Attributes|Returns|Return|Yields|Yield|Raises|Warns|"
                     r"Examples|Example|Notes?|Warnings?|See Also|References|Todo|Methods):\s*$")
# An argument in an Args section: "name:", "name (type):", "*args:", "**kwargs:".
ARGUMENT = re.compile(r"^\s*\**(\w+)\s*(\([^)]*\))?\s*:")


def _pages():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from apipages import pages
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return pages(optional=OPTIONAL)


def _public():
    """``{qualified name: object}`` for every public function and class, each object once."""
    found = {}
    for modname, _, objects, _, _ in _pages():
        module = importlib.import_module(modname)
        for name in objects:
            value = getattr(module, name)
            if inspect.isfunction(value) or inspect.isclass(value):
                found[f"{modname}.{name}"] = value
    return found


def _defined_in(obj):
    path = pathlib.Path(inspect.getsourcefile(inspect.unwrap(obj))).resolve()
    return path.relative_to(SRC).as_posix()


PUBLIC = _public()
CHECKED = {name: obj for name, obj in PUBLIC.items() if _defined_in(obj) not in PENDING}
SKIPPED = sorted(set(PUBLIC) - set(CHECKED))


def _sections(doc):
    """``{section title: its lines}`` of a cleaned docstring (the text before any is "")."""
    sections, title = {"": []}, ""
    for line in doc.splitlines():
        match = SECTION.match(line)
        if match and not line.startswith(" "):
            title = match.group(1)
            sections[title] = []
        else:
            sections[title].append(line)
    return sections


def _arguments(obj):
    """The names of the arguments a caller passes (a class: its constructor's)."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except ValueError:  # a class with a builtin constructor and no signature
        return []
    if inspect.isclass(obj) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                                    for p in parameters):
        return []  # an exception's (*args, **kwargs), inherited
    return [p.name for p in parameters if p.name not in ("self", "cls")]


def _commented_fields(obj):
    """The fields of a record class documented by a ``#:`` comment (autodoc shows them)."""
    if not inspect.isclass(obj):
        return set()
    return set(re.findall(r"^\s+(\w+)\s*:[^\n]*#:", inspect.getsource(obj), re.MULTILINE))


def _returns_a_value(fn):
    """Whether the function's own body has ``return <value>`` (``yield``: a generator)."""
    fn = inspect.unwrap(fn)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    body = tree.body[0]
    kinds = set()

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                  ast.ClassDef)):
                continue
            if isinstance(child, ast.Return) and child.value is not None and not (
                    isinstance(child.value, ast.Constant) and child.value.value is None):
                kinds.add("Returns")
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                kinds.add("Yields")
            walk(child)

    walk(body)
    return "Yields" if "Yields" in kinds else "Returns" if kinds else None


def _problems(obj):
    doc = inspect.getdoc(obj)
    if not doc:
        return ["no docstring"]
    sections, problems = _sections(doc), []
    arguments = _arguments(obj)
    # A record class (dataclass, NamedTuple) documents its fields, its constructor's
    # arguments, as Attributes (Google style); any other callable as Args. A class with both
    # sections (an estimator: Args for its constructor, Attributes for what fit learns) is
    # read from its Args.
    kind = ("Attributes" if inspect.isclass(obj) and "Attributes" in sections
            and "Args" not in sections else "Args")
    if arguments:
        named = _commented_fields(obj)
        named |= {m.group(1) for line in sections.get(kind, []) if (m := ARGUMENT.match(line))}
        missing = [a for a in arguments if a not in named]
        if missing and kind not in sections:
            problems.append("no Args: section")
        elif missing:
            problems.append(f"{kind}: does not name " + ", ".join(missing))
    if inspect.isfunction(obj):
        returns = _returns_a_value(obj)
        if returns and returns not in sections:
            problems.append(f"no {returns}: section")
    if not any(line.lstrip().startswith(">>>") for line in sections.get("Examples", [])):
        problems.append("no Examples: section with a >>> line")
    return problems


def test_the_public_api_is_found():
    assert {"gradkit.grad", "gradkit.optim.adam", "gradkit.nn.init.he_normal",
            "gradkit.data.augment.Mixup", "gradkit.cli.main", "gradkit.cli.fit.run"} <= set(PUBLIC)
    assert len(PUBLIC) > 350


def test_pending_files_exist():
    missing = sorted(f for f in PENDING if not (SRC / f).exists())
    assert not missing, f"PENDING names files that are not there: {missing}"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_has_args_returns_and_examples(name):
    where = _defined_in(PUBLIC[name])
    if where in PENDING:
        pytest.skip(f"pending: {where} is being documented on another branch")
    problems = _problems(PUBLIC[name])
    assert not problems, f"{name} ({where}): " + "; ".join(problems)


def _commented_constant(modname, name):
    """Whether ``name`` is assigned under a ``#:`` comment in ``modname`` or in a gradkit
    module it is imported from (what the API reference shows for a constant)."""
    value = getattr(importlib.import_module(modname), name)
    assigned = re.compile(rf"^#:.*\n(?:#:.*\n)*{re.escape(name)}\s*(?::[^=\n]*)?=", re.MULTILINE)
    for other, module in sorted(sys.modules.items()):
        if other.startswith("gradkit") and vars(module).get(name) is value and \
                getattr(module, "__file__", None):
            if assigned.search(pathlib.Path(module.__file__).read_text(encoding="utf-8")):
                return True
    return False


CONSTANTS = sorted(f"{modname}.{name}" for modname, _, _, data, _ in _pages() for name in data)


@pytest.mark.parametrize("name", CONSTANTS)
def test_public_constant_has_a_comment(name):
    modname, _, attr = name.rpartition(".")
    assert _commented_constant(modname, attr), (
        f"{name} is public (in __all__) but has no #: comment above its assignment; the API "
        "reference shows that comment.")


def test_how_many_names_are_pending():
    by_file = {}
    for name in SKIPPED:
        by_file.setdefault(_defined_in(PUBLIC[name]), []).append(name)
    print(f"\n{len(SKIPPED)} of {len(PUBLIC)} public names pending, in {len(by_file)} files:")
    for path, names in sorted(by_file.items()):
        print(f"  {path}: {len(names)}")


def _collected_docstrings():
    """The docstrings whose examples tests/test_doctests.py runs."""
    docstrings = set()
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL:
                continue
            raise
        for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
            docstrings.add(test.docstring)
    return docstrings


def test_every_public_example_is_run_by_the_doctests():
    collected = _collected_docstrings()
    missed = [name for name, obj in CHECKED.items()
              if ">>>" in (obj.__doc__ or "") and obj.__doc__ not in collected]
    assert not missed, "examples that tests/test_doctests.py does not run: " + ", ".join(missed)


# -- the checker itself, on small functions ---------------------------------------------------
def _complete(x, y=1):
    """Add.

    Args:
        x: a number.
        y (int): another.

    Returns:
        The sum.

    Examples:
        >>> _complete(1)
        2
    """
    return x + y


def _no_returns(x):
    """Add one.

    Args:
        x: a number.

    Examples:
        >>> _no_returns(1)
        2
    """
    return x + 1


def _one_argument_missing(x, *, scale=2.0):
    """Scale.

    Args:
        x: a number.

    Returns:
        ``scale * x``.

    Examples:
        >>> _one_argument_missing(1.0)
        2.0
    """
    return scale * x


def _bare_example():
    """Nothing.

    >>> _bare_example()
    """


def _generator(n):
    """Count.

    Args:
        n: how far.

    Returns:
        Wrong section for a generator.

    Examples:
        >>> list(_generator(2))
        [0, 1]
    """
    yield from range(n)


def _no_docstring():
    pass


class _Point:
    """A point.

    Attributes:
        x: the first coordinate.
        y: the second coordinate.

    Examples:
        >>> _Point(1, 2).y
        2
    """

    def __init__(self, x, y):
        self.x, self.y = x, y


class _Estimator:
    """An estimator.

    Args:
        alpha: the penalty.

    Attributes:
        coef_: what fit learns.

    Examples:
        >>> _Estimator(alpha=1.0).alpha
        1.0
    """

    def __init__(self, alpha):
        self.alpha = alpha


class _EstimatorMissing(_Estimator):
    """An estimator whose Args section misses an argument.

    Args:
        alpha: the penalty.

    Attributes:
        beta: documented here, but it is a constructor argument.

    Examples:
        >>> _EstimatorMissing(1.0, 2.0).beta
        2.0
    """

    def __init__(self, alpha, beta):
        self.alpha, self.beta = alpha, beta


@pytest.mark.parametrize("obj, problems", [
    (_complete, []),
    (_no_returns, ["no Returns: section"]),
    (_one_argument_missing, ["Args: does not name scale"]),
    (_bare_example, ["no Examples: section with a >>> line"]),
    (_generator, ["no Yields: section"]),
    (_no_docstring, ["no docstring"]),
    (_Point, []),
    (_Estimator, []),
    (_EstimatorMissing, ["Args: does not name beta"]),

], ids=lambda v: getattr(v, "__name__", "")[:20])
def test_the_checker_finds_what_is_missing(obj, problems):
    assert _problems(obj) == problems


def test_no_control_characters_in_the_sources():
    """A docstring's math written without r'' turns \\f and \\t into a form feed and a tab
    (RandomAffine's \\frac and \\theta did); the docs build then fails far from the cause."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[1] / "src" / "gradkit"
    bad = [f"{p.relative_to(root)}:{i}" for p in sorted(root.rglob("*.py"))
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if any(c in line for c in "\t\x0b\x0c\x07\x08")]
    assert not bad, bad
