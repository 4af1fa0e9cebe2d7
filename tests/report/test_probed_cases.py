"""The report on cases found by probing: each showed a number the run did not have."""
import re

import numpy as np

from gradkit import report
from gradkit.diagnostics import GradientMonitor


def test_the_summary_counts_epochs_by_step_in_a_thinned_history():
    """With steps_per_epoch=10 and 1,000 steps kept in 100 records, the Summary said 7
    epochs (every 10 records) where the run had 100, as the findings count them."""
    m = GradientMonitor(max_records=100)
    for t in range(1, 1001):
        m.record(t, loss=1.0 / t, grads={"w": np.ones(2) / t}, params={"w": np.ones(2)})
    text = re.sub(r"<[^>]+>", " ", report.build(m, steps_per_epoch=10).to_html())
    assert re.search(r"epochs\s+100\b", text), text[:2000]
    assert re.search(r"first epoch&#x27;s mean loss\s+1\.000", text)
