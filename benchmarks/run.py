"""Run every benchmark in this folder: `python benchmarks/run.py` (or `make bench`)."""
import pathlib
import runpy
import sys

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from harness import default_clock, machine  # noqa: E402

print(f"gradkit benchmarks on {machine()}, clock {default_clock().__name__}")
only = sys.argv[1:]  # e.g. `run.py engine nn`: the files whose names contain a word
for path in sorted(here.glob("bench_*.py")):
    if only and not any(a in path.name for a in only):
        continue
    print(f"\n=== {path.name}")
    sys.argv = [str(path)]  # each benchmark sees its own, empty command line
    runpy.run_path(str(path), run_name="__main__")
