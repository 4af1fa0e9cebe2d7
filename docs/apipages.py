"""Write the API reference's pages from the ``__all__`` of every public module (so no public
name is missed).

A module is public when its dotted name has no part that starts with ``_``; every name in its
``__all__`` is documented once. The packages of :data:`PACKAGES` each have a page listing their
own ``__all__``; every other public module has a page, under the deepest of those packages
that contains it, for the names of its ``__all__`` not documented on another page (a name
re-exported by several modules is shown where it is defined). Every public function and class
gets its own page (autosummary); constants are listed with their ``#:`` comment.
"""
import importlib
import inspect
import os
import pkgutil
import sys

PACKAGES = [
    ("gradkit", "Automatic differentiation"),
    ("gradkit.tree", "Pytrees"),
    ("gradkit.optim", "Optimizers"),
    ("gradkit.nn", "Neural networks"),
    ("gradkit.models", "Estimators"),
    ("gradkit.data", "Data"),
    ("gradkit.diagnostics", "Diagnostics"),
    ("gradkit.explain", "Feature attribution"),
    ("gradkit.plot", "Figures"),
    ("gradkit.report", "HTML reports"),
    ("gradkit.cli", "The command line"),
]


def public_modules(optional=()):
    """The names of gradkit's public modules that have an ``__all__``, sorted.

    A module that needs a missing optional dependency (its top-level name in ``optional``) is
    left out; any other import error is raised.
    """
    import gradkit

    names = [gradkit.__name__]
    for info in pkgutil.walk_packages(gradkit.__path__, prefix="gradkit.",
                                      onerror=lambda _: None):
        if not any(part.startswith("_") for part in info.name.split(".")):  # and __main__
            names.append(info.name)
    found = []
    for name in sorted(names):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in optional:
                continue
            raise
        if hasattr(module, "__all__"):
            found.append(name)
    return found


def _is_object(value):
    """A function or class gets a page; anything else (a type alias included) is a constant."""
    return inspect.isfunction(value) or inspect.isclass(value)


def pages(optional=()):
    """The API reference's pages: ``[(module, title, objects, data, children)]``, in order.

    ``objects`` and ``data`` are the names of the module's ``__all__`` documented on its page
    (functions and classes, constants); ``children`` the modules whose pages are listed on it.
    """
    modules = public_modules(optional)
    groups = [p for p, _ in PACKAGES if p in modules]
    titles = dict(PACKAGES)
    others = [m for m in modules if m not in titles]

    def home_of(name, value, listing):
        """Where a re-exported name is shown: its defining module, if it lists it."""
        defined = getattr(value, "__module__", None) if _is_object(value) else None
        return defined if defined in listing else listing[0]

    claimed, listing = {}, {}  # key -> module; key -> the modules whose __all__ has it
    for modname in groups:  # a package page shows its whole __all__
        module = importlib.import_module(modname)
        for name in module.__all__:
            value = getattr(module, name)
            if not inspect.ismodule(value):
                claimed.setdefault(_key(name, value), modname)
    for modname in others:
        module = importlib.import_module(modname)
        for name in module.__all__:
            value = getattr(module, name)
            if not inspect.ismodule(value):
                listing.setdefault(_key(name, value), []).append(modname)
    result = {}
    for modname in groups + others:
        module = importlib.import_module(modname)
        objects, data = [], []
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.ismodule(value):
                continue
            key = _key(name, value)
            home = claimed.get(key) or home_of(name, value, listing[key])
            if home == modname:
                (objects if _is_object(value) else data).append(name)
        if objects or data or modname in groups:
            result[modname] = (objects, data)
    children = {g: [] for g in groups}
    for modname in others:
        if modname in result:
            group = max((g for g in groups if modname.startswith(g + ".") or g == "gradkit"),
                        key=len)
            children[group].append(modname)
    return [(m, titles.get(m), *result[m], children.get(m, [])) for m in result]


def _key(name, value):
    """One object is documented once; a constant (an int may be shared) by name and value."""
    return id(value) if _is_object(value) else (name, id(value))


def _data_doc(modname, name):
    """The ``#:`` comment above the constant where it is defined (it may be re-exported)."""
    from sphinx.pycode import ModuleAnalyzer  # here, so the tests can list names without Sphinx

    value = getattr(importlib.import_module(modname), name)
    candidates = [modname] + sorted(m for m, mod in sys.modules.items()
                                    if m.startswith("gradkit") and m != modname
                                    and vars(mod).get(name) is value)
    for candidate in candidates:
        try:
            doc = ModuleAnalyzer.for_module(candidate).find_attr_docs().get(("", name))
        except Exception:  # a module without source (compiled): look further
            doc = None
        if doc:
            return " ".join(line.strip() for line in doc if line.strip())
    raise ValueError(f"{modname}.{name} is public but has no #: comment where it is defined")


def _slug(modname):
    return modname.replace(".", "_")


def _shadowed(modname):
    """Whether the package's attribute of the module's name is another object (``gradkit.cli``
    exports the function ``main`` of its module ``main``): that object's page owns the name."""
    parent, _, name = modname.rpartition(".")
    return bool(parent) and getattr(importlib.import_module(parent), name, None) is not \
        importlib.import_module(modname)


def _page(modname, title, objects, data, children):
    heading = f"``{modname}``" + (f": {title}" if title else "")
    lines = [heading, "=" * len(heading), "", f".. automodule:: {modname}", "   :no-members:"]
    lines += ["   :no-index:"] if _shadowed(modname) else []
    lines += ["", f".. currentmodule:: {modname}", ""]
    if objects:
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in objects] + [""]
    if data:
        lines += ["Constants", "---------", ""]
        for name in data:
            lines += [f".. py:data:: {name}", "", f"   {_data_doc(modname, name)}", ""]
    if children:
        lines += ["Modules", "-------", "", ".. toctree::", "   :hidden:", ""]
        lines += [f"   {_slug(name)}" for name in children] + [""]
        lines += [f"* :doc:`{_slug(name)}`: {_summary(name)}" for name in children] + [""]
    return "\n".join(lines)


def _summary(modname):
    """The first paragraph of a module's docstring, on one line (its one-line job)."""
    doc = inspect.getdoc(importlib.import_module(modname)) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _write(path, text):
    """Write only what changed, so Sphinx does not rebuild unchanged pages."""
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)


def write_api_pages(directory):
    os.makedirs(os.path.join(directory, "generated"), exist_ok=True)
    toc = ["API reference", "=============", "",
           "Every public name of gradkit, grouped as the package is. Each page shows the",
           "signature, the docstring and its example (the examples run as doctests in the test",
           "suite, ``tests/test_doctests.py``).", "", ".. toctree::", "   :maxdepth: 1", ""]
    for modname, title, objects, data, children in pages():
        _write(os.path.join(directory, f"{_slug(modname)}.rst"),
               _page(modname, title, objects, data, children))
        if title:
            toc.append(f"   {_slug(modname)}")
    _write(os.path.join(directory, "index.rst"), "\n".join(toc) + "\n")
