"""The hash chain itself: what a link covers and where a check stops."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from outage.ledger.chain import GENESIS, SealedRow, canonical, first_break, link, private_digest

CHAIN = "events"
SALT = b"0123456789abcdef"


def _sealed(
    contents: list[dict[str, object]], private: dict[str, object] | None = None
) -> list[SealedRow]:
    rows, before = [], GENESIS
    for n, content in enumerate(contents, start=1):
        digest = private_digest(SALT, private) if private is not None else None
        before = link(CHAIN, n, content, digest, before)
        rows.append(
            SealedRow(
                id=100 + n,
                seq=n,
                stored=before,
                content=content,
                digest=digest,
                private=private or {},
                salt=SALT if private is not None else None,
                erased=private is None,
            )
        )
    return rows


def test_a_time_reads_the_same_in_any_zone() -> None:
    moment = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert canonical({"at": moment}) == canonical(
        {"at": moment.astimezone(timezone(timedelta(hours=7)))}
    )


def test_an_untouched_chain_has_no_break_and_ends_at_its_last_row() -> None:
    rows = _sealed([{"a": 1}, {"a": 2}, {"a": 3}])
    assert first_break(CHAIN, rows) == (None, 3, rows[-1].stored)


def test_a_changed_row_is_named() -> None:
    rows = _sealed([{"a": 1}, {"a": 2}, {"a": 3}])
    rows[1] = replace(rows[1], content={"a": 20})
    broken, _, _ = first_break(CHAIN, rows)
    assert broken is not None and (broken.row_id, broken.seq) == (102, 2)


def test_a_removed_row_names_the_place_it_left_and_the_row_after() -> None:
    rows = _sealed([{"a": 1}, {"a": 2}, {"a": 3}])
    broken, _, _ = first_break(CHAIN, [rows[0], rows[2]])
    assert broken is not None and (broken.row_id, broken.seq) == (103, 2)


def test_rows_swapped_in_place_break_at_the_first() -> None:
    one, two, three = _sealed([{"a": 1}, {"a": 2}, {"a": 3}])
    swapped = [one, replace(three, seq=2), replace(two, seq=3)]
    broken, _, _ = first_break(CHAIN, swapped)
    assert broken is not None and broken.row_id == three.id


def test_changed_personal_data_is_named_though_it_is_not_in_the_clear() -> None:
    rows = _sealed([{"a": 1}, {"a": 2}], private={"address": "+84911111111"})
    rows[1] = replace(rows[1], private={"address": "+84922222222"})
    broken, _, _ = first_break(CHAIN, rows)
    assert broken is not None and broken.row_id == 102 and "personal data" in broken.reason


def test_erased_personal_data_with_its_key_gone_still_verifies() -> None:
    rows = _sealed([{"a": 1}], private={"address": "+84911111111"})
    erased = replace(rows[0], private={"address": "[erased]"}, salt=None, erased=True)
    assert first_break(CHAIN, [erased])[0] is None


def test_a_key_gone_from_data_not_erased_is_a_break() -> None:
    rows = _sealed([{"a": 1}], private={"address": "+84911111111"})
    hidden = replace(rows[0], salt=None, erased=False)
    broken, _, _ = first_break(CHAIN, [hidden])
    assert broken is not None and broken.row_id == rows[0].id


def test_a_check_from_the_middle_starts_from_the_link_before() -> None:
    rows = _sealed([{"a": 1}, {"a": 2}, {"a": 3}])
    assert first_break(CHAIN, rows[1:], after_seq=1, before=rows[0].stored)[0] is None
    assert first_break(CHAIN, rows[1:], after_seq=1, before=GENESIS)[0] is not None
