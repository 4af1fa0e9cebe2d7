"""Write the API reference's pages from each package's ``__all__`` (so no public name is missed).

Every public function and class gets its own page (autosummary); the public modules named in
``__all__`` (``gradkit.tree``, ``gradkit.nn.init``, ...) get a page with all their members.
"""
import importlib
import inspect
import os
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
]
# Modules re-exported by name whose contents are already listed on their package's page.
LISTED_ELSEWHERE = {"gradkit.optim", "gradkit.tree", "gradkit.optim.schedules",
                    "gradkit.optim.transforms"}


def public_names(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if not n.startswith("_") and getattr(v, "__module__", "").startswith(package)
                 and (inspect.isfunction(v) or inspect.isclass(v))]
    objects, modules, data = [], [], []
    for name in names:
        value = getattr(module, name)
        if inspect.ismodule(value):
            if value.__name__ not in LISTED_ELSEWHERE:
                modules.append(value.__name__)
        elif inspect.isfunction(value) or inspect.isclass(value) or callable(value):
            objects.append(name)
        else:
            data.append(name)
    return module, objects, modules, data


def _data_doc(package, name):
    """The ``#:`` comment above the constant where it is defined (it is re-exported here)."""
    from sphinx.pycode import ModuleAnalyzer  # here, so the tests can list names without Sphinx

    value = getattr(importlib.import_module(package), name)
    for modname, module in sorted(sys.modules.items()):
        if modname.startswith(package) and vars(module).get(name) is value:
            try:
                doc = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", name))
            except Exception:  # a module without source (compiled): look further
                doc = None
            if doc:
                return " ".join(line.strip() for line in doc if line.strip())
    raise ValueError(f"{package}.{name} is public but has no #: comment where it is defined")


def _page(package, title):
    module, objects, modules, data = public_names(package)
    lines = [title, "=" * len(title), "", f".. automodule:: {package}", "   :no-members:", "",
             f".. currentmodule:: {package}", ""]
    if objects:
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in objects] + [""]
    if data:
        lines += ["Constants", "---------", ""]
        for name in data:
            lines += [f".. py:data:: {name}", "", f"   {_data_doc(package, name)}", ""]
    if modules:
        lines += ["Modules", "-------", "", ".. toctree::", "   :maxdepth: 1", ""]
        lines += [f"   generated/{name}" for name in modules] + [""]
    return "\n".join(lines)


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
    for package, title in PACKAGES:
        slug = package.replace(".", "_")
        _write(os.path.join(directory, f"{slug}.rst"), _page(package, f"``{package}``: {title}"))
        for name in public_names(package)[2]:
            heading = f"``{name}``"
            _write(os.path.join(directory, "generated", f"{name}.rst"),
                   f"{heading}\n{'=' * len(heading)}\n\n.. automodule:: {name}\n"
                   "   :members:\n   :imported-members:\n")
        toc.append(f"   {slug}")
    _write(os.path.join(directory, "index.rst"), "\n".join(toc) + "\n")
