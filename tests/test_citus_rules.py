"""The Citus rule checker on hand-written statements: for each rule one that keeps it and
one that breaks it."""

from tests.citus_rules import breaches, postgres_text


def _rules(sql: str) -> list[tuple[str, str]]:
    return [(breach.rule, breach.table) for breach in breaches(sql)]


def test_a_join_of_two_distributed_tables_on_their_keys_passes() -> None:
    sql = (
        "SELECT 1 FROM reports r JOIN meter_events m"
        " ON m.substation_id = r.substation_id AND m.premise_id = r.premise_id"
    )
    assert _rules(sql) == []


def test_a_join_of_two_distributed_tables_off_their_keys_breaks_the_join_rule() -> None:
    sql = "SELECT 1 FROM reports r JOIN meter_events m ON m.premise_id = r.premise_id"
    assert _rules(sql) == [("join", "meter_events")]


def test_a_distributed_table_joined_to_itself_off_the_key_breaks_the_join_rule() -> None:
    sql = "SELECT 1 FROM reports r, reports d WHERE d.id = r.duplicate_of_id"
    assert _rules(sql) == [("join", "reports")]


def test_a_join_with_a_reference_table_passes() -> None:
    sql = "SELECT 1 FROM reports r JOIN premises p ON p.id = r.premise_id WHERE r.id = 3"
    assert _rules(sql) == []


def test_an_insert_giving_the_key_passes() -> None:
    sql = "INSERT INTO meter_events (meter_id, substation_id) VALUES (%(m)s, %(s)s)"
    assert _rules(sql) == []


def test_an_insert_without_the_key_breaks_the_insert_rule() -> None:
    assert _rules("INSERT INTO reports (ticket) VALUES ('T-1')") == [("insert", "reports")]


def test_a_lock_narrowed_by_the_key_passes() -> None:
    sql = "SELECT id FROM reports WHERE ticket = $1 AND substation_id = 0 FOR UPDATE"
    assert _rules(sql) == []


def test_a_lock_across_keys_breaks_the_lock_rule() -> None:
    sql = "SELECT id FROM notifications WHERE status = 'pending' FOR UPDATE SKIP LOCKED"
    assert _rules(sql) == [("lock", "notifications")]


def test_a_lock_behind_an_or_is_not_narrowed() -> None:
    sql = "SELECT id FROM reports WHERE substation_id = 1 OR id = 2 FOR UPDATE"
    assert _rules(sql) == [("lock", "reports")]


def test_an_update_narrowed_by_a_list_of_keys_passes() -> None:
    sql = "UPDATE reports SET status = 'closed' WHERE substation_id = ANY($1) AND id = $2"
    assert _rules(sql) == []


def test_an_update_without_the_key_breaks_the_modify_rule() -> None:
    sql = "UPDATE notifications SET status = 'sent' WHERE id = %(nid)s"
    assert _rules(sql) == [("modify", "notifications")]


def test_a_delete_narrowed_by_the_key_passes() -> None:
    assert _rules("DELETE FROM meter_events WHERE substation_id IN (1, 2)") == []


def test_a_delete_without_the_key_breaks_the_modify_rule() -> None:
    assert _rules("DELETE FROM meter_events WHERE occurred_at < now()") == [
        ("modify", "meter_events")
    ]


def test_an_update_setting_the_key_breaks_the_key_change_rule() -> None:
    sql = "UPDATE reports SET substation_id = 4 WHERE substation_id = 0 AND id = 7"
    assert _rules(sql) == [("key_change", "reports")]


def test_a_subquery_is_judged_as_a_statement_of_its_own() -> None:
    sql = (
        "UPDATE notifications AS n SET status = 'sending' WHERE n.substation_id = 1"
        " AND n.id IN (SELECT id FROM notifications WHERE status = 'pending'"
        " FOR UPDATE SKIP LOCKED)"
    )
    assert _rules(sql) == [("lock", "notifications")]


def test_reference_tables_are_never_judged() -> None:
    assert _rules("UPDATE incidents SET status = 'restored' WHERE id = 1") == []


def test_the_drivers_placeholders_become_postgres_parameters() -> None:
    assert postgres_text("a = %(x)s AND b LIKE 'c%%'") == "a = $1 AND b LIKE 'c%'"
