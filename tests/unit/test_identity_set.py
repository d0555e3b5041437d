"""The numba identity set behind tier 1's duplicate check, against Python's set."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss20.validation.identity_set import IdentitySet

batches = st.lists(st.lists(st.integers(0, 2**62), max_size=300), max_size=12)


@settings(max_examples=200, deadline=None)
@given(batches, st.integers(1, 64))
def test_repeats_are_exactly_what_a_python_set_has_seen(parts: list[list[int]], capacity: int) -> None:
    ours, reference = IdentitySet(capacity), set()
    for part in parts:
        repeat = ours.add(np.array(part, np.int64))
        expected = []
        for identity in part:
            expected.append(identity in reference)
            reference.add(identity)
        assert repeat.tolist() == expected
        assert len(ours) == len(reference)
    assert all(identity in ours for identity in reference)


def test_grows_past_its_capacity_and_keeps_everything() -> None:
    ours = IdentitySet(16)
    sequential = np.arange(100_000, dtype=np.int64) + (7 << 48)  # one venue's TickIDs, in order
    assert not ours.add(sequential).any()
    assert ours.add(sequential[::1000]).all()
    assert len(ours) == 100_000 and (7 << 48) + 99_999 in ours and (7 << 48) + 100_000 not in ours


def test_negative_identities_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        IdentitySet().add(np.array([3, -1]))
    assert -1 not in IdentitySet()
