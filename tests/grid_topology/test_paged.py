"""The paged map the orientation is kept in: copies that share all they do not change."""

import pytest

from grid_topology.paged import PagedMap

ENTRIES = {f"k{i}": i for i in range(1000)}


def test_reads_like_the_dict_it_was_made_from() -> None:
    paged = PagedMap(ENTRIES)
    assert paged == ENTRIES
    assert paged.to_dict() == ENTRIES
    assert (paged.get("k7"), paged.get("nope"), paged.get("nope", -1)) == (7, None, -1)


def test_an_edited_copy_leaves_the_original_as_it_was() -> None:
    paged = PagedMap(ENTRIES)
    edited = paged.edited()
    edited["k1"] = -1
    edited["new"] = 0
    edited.discard("k2")
    assert paged == ENTRIES
    assert edited == {**{k: v for k, v in ENTRIES.items() if k != "k2"}, "k1": -1, "new": 0}
    assert len(edited) == len(ENTRIES)


def test_discarding_a_missing_key_changes_nothing() -> None:
    edited = PagedMap(ENTRIES).edited()
    edited.discard("nope")
    assert edited == ENTRIES


def test_only_an_edited_copy_is_written_to() -> None:
    with pytest.raises(TypeError):
        PagedMap(ENTRIES)["k1"] = -1
