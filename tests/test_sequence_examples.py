"""What the sequence examples claim in their docstrings is what they do."""
import pathlib
import runpy

import matplotlib

matplotlib.use("Agg")

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def _main(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"]


def test_clipping_stops_the_lstm_gradients_from_exploding(tmp_path):
    report = tmp_path / "char_lstm.html"
    out = _main("char_lstm_clipping.py")(["--report", str(report)])
    unclipped, clipped = out["unclipped"], out["clipped"]
    assert unclipped["exploding"], "without clipping the monitor should find an explosion"
    assert all(f.step <= 10 for f in unclipped["exploding"])  # "within the first few steps"
    assert max(f.value for f in unclipped["exploding"]) >= 100
    assert unclipped["max_loss"] > 3 * 3.3  # the loss jumps far above its start (ln 26)
    assert not clipped["exploding"]
    assert clipped["final_loss"] < unclipped["final_loss"] / 5
    page = report.read_text(encoding="utf-8")
    assert "without clipping" in page and "grew" in page and "No finding" in page


def test_tiny_transformer_learns_to_reverse_and_is_causal():
    out = _main("tiny_transformer.py")([])
    assert out["token_accuracy_before"] < 0.3
    assert out["token_accuracy"] > 0.9 and out["sequence_accuracy"] > 0.9
    assert out["causal"]


def test_reinforce_learns_to_balance_the_pole():
    out = _main("reinforce_cartpole.py")([])
    assert out["first"] < 40
    assert out["last"] > 150
