"""``gradkit ... | head -1``: a reader that goes away ends the command quietly, as a Unix tool
(status 141 = 128 + SIGPIPE, nothing on stderr), never with a traceback."""
import os
import pathlib
import subprocess
import sys

import pytest

import gradkit
from gradkit.cli.main import EXIT_BROKEN_PIPE

SRC = str(pathlib.Path(gradkit.__file__).resolve().parents[1])  # this checkout's code


def _run_into_a_closed_pipe(argv, cwd):
    """Run ``gradkit argv`` with stdout a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # like head after its first line: every write now fails with EPIPE
    try:
        return subprocess.run([sys.executable, "-m", "gradkit", *argv], cwd=cwd, stdout=write_end,
                              stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=SRC),
                              timeout=300)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("argv", [["fit", "iris", "--report", "r.html"], ["--help"],
                                  ["race", "--steps", "5", "--report", "r.html"]],
                         ids=" ".join)
def test_a_closed_output_pipe_ends_quietly_with_141(tmp_path, argv):
    result = _run_into_a_closed_pipe(argv, tmp_path)
    # argparse's --help swallows a failed write itself (argparse._print_message), so the
    # loss is not seen and the status stays 0
    assert EXIT_BROKEN_PIPE == 141
    assert result.returncode == (0 if argv == ["--help"] else EXIT_BROKEN_PIPE)
    assert result.stderr == b"", result.stderr.decode()


def test_head_reads_the_first_line_and_gradkit_ends_quietly(tmp_path):
    result = subprocess.run(f"{sys.executable} -m gradkit fit iris --report r.html | head -1; "
                            "echo status=${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONPATH=SRC))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("gradkit fit: LogisticRegression")
    assert lines[-1] in ("status=0", "status=141")  # 0 when the summary fit in one write
    assert "Traceback" not in result.stderr and "Error" not in result.stderr, result.stderr
