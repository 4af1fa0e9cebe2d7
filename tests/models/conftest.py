"""Shared fixtures of the estimator tests."""
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matrices, two cores shared by two test workers: threaded BLAS only oversubscribes
    (a mini-batch step is 50x slower with two threads fighting another process)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
