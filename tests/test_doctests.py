"""Every example in gradkit's docstrings runs and prints what it says (one test per module).

Modules that need an optional dependency that is not installed (Dask, CuPy, the benchmark
peers) are skipped, not failed.
"""
import doctest
import importlib
import pkgutil

import pytest

import gradkit

OPTIONAL = {"dask", "distributed", "cupy", "cupyx", "torch", "jax", "jaxlib", "autograd"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    names = [gradkit.__name__]
    for info in pkgutil.walk_packages(gradkit.__path__, prefix="gradkit.", onerror=lambda _: None):
        if info.name.rsplit(".", 1)[-1] != "__main__":  # importing it would run the CLI
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def test_the_package_has_modules_to_check():
    assert {"gradkit.tree", "gradkit.autodiff.api", "gradkit.autodiff.tracer"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional dependency {exc.name}")
        raise
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
