# gradkit: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench docs install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/tour.py
	$(BIN)/gradkit fit --report gradkit-report.html
	$(BIN)/gradkit fit wine --model mlp --hidden 32,16 --optimizer adam --lr 0.01 --epochs 150 --report gradkit-report-mlp.html
	$(BIN)/gradkit race rosenbrock --report gradkit-report-race.html
	@echo "Open gradkit-report.html, gradkit-report-mlp.html and gradkit-report-race.html in a browser (they work offline)."

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, where a machine sets them, force an old BLAS kernel;
# the benchmarks run on the kernel NumPy picks (benchmarks/run.py prints which one).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py

# The documentation site, offline, into docs/_build/html: warnings are errors, every gallery
# example runs, then tests/test_docs.py checks the pages (no external URL loaded, guide examples)
# and the docstrings' sections and examples run (tests/test_docstrings.py, test_doctests.py).
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs docs/_build/html
	$(BIN)/python -m pytest tests/test_docs.py tests/test_docstrings.py tests/test_doctests.py
	@echo "Open docs/_build/html/index.html in a browser (it works offline)."

clean:
	rm -rf $(VENV) build dist .pytest_cache docs/_build docs/api docs/auto_examples
