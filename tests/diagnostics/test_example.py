"""examples/diagnose_vanishing.py runs and names the vanishing layers, then shows the fix."""
import pathlib
import runpy

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "diagnose_vanishing.py"


def test_the_example_flags_vanishing_gradients_and_the_fix(capsys, tmp_path):
    module = runpy.run_path(str(EXAMPLE))
    png = tmp_path / "flow.png"
    module["main"](["--steps", "5", "--plot", str(png)])
    out = capsys.readouterr().out
    assert "[vanishing] Gradients vanish in layer '00_linear' from step 0" in out
    assert "'09_linear' from step" not in out
    assert "ReLU + He initialization: no vanishing gradients." in out
    assert png.stat().st_size > 10_000
