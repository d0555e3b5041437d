"""Quantiles read off counts agree with numpy's, and say when they cannot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss20.validation import _kernels as K
from oss20.validation._stats import LIMIT, quantiles_of_counts

QS = (0.0, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-500, 5_000), min_size=1, max_size=400))
def test_quantiles_of_counts_equal_numpys(values: list[int]) -> None:
    sizes = np.array(values, np.int64)
    counts, low, total, high = K.size_histogram(sizes, LIMIT)
    assert (low, total, high) == (sizes.min(), sizes.sum(), sizes.max())
    got = quantiles_of_counts(counts, int(low), len(sizes), QS)
    assert got == pytest.approx(np.quantile(sizes, QS).tolist())


def test_a_quantile_beyond_the_counts_is_nan_for_the_caller() -> None:
    sizes = np.array([1, 2, 3, LIMIT * 10, LIMIT * 20], np.int64)
    counts, low, _, _ = K.size_histogram(sizes, LIMIT)
    median, top = quantiles_of_counts(counts, int(low), len(sizes), (0.5, 1.0))
    assert median == 3 and np.isnan(top)
