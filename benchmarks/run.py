"""Run every benchmark in this folder: `python benchmarks/run.py` (or `make bench`)."""
import pathlib
import runpy
import sys

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from harness import machine  # noqa: E402

print(f"gradkit benchmarks on {machine()}")
for path in sorted(here.glob("bench_*.py")):
    if len(sys.argv) > 1 and not any(a in path.name for a in sys.argv[1:]):
        continue
    print(f"\n=== {path.name}")
    runpy.run_path(str(path), run_name="__main__")
