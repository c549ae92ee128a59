"""Citus's rules for tables distributed by a key, checked on one SQL statement at a time.

Every other table is taken for a reference table (a copy on every node), which Citus joins
with anything. What Citus refuses, or runs on every shard, with a distributed table:

- `join`: two distributed tables (or one twice) joined other than on equal keys;
- `insert`: an INSERT that does not give the key (the row could not be routed);
- `lock`: a SELECT ... FOR UPDATE / SHARE of a distributed table not narrowed by its key
  (Citus locks rows on one shard's worth of keys at most);
- `key_change`: an UPDATE (or an upsert's DO UPDATE) that sets the key (a row never
  moves between shards);
- `modify`: an UPDATE or DELETE not narrowed by the key: valid, but sent to every shard.

"Narrowed by the key" is a conjunct of the WHERE clause comparing the key with a value or
a list of values (`=`, `IN`, `= ANY`), as Citus's shard pruning reads it. Joins with a
subquery, and anything behind OR, are left to Citus's planner and not judged here.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pglast import ast, parse_sql
from pglast.enums.primnodes import BoolExprType
from pglast.visitors import Visitor

DISTRIBUTED: Mapping[str, str] = {
    "reports": "substation_id",
    "meter_events": "substation_id",
    "notifications": "substation_id",
}
"""The distributed tables and each one's key."""

_NAMED = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Breach:
    rule: str
    table: str
    sql: str


def postgres_text(statement: str) -> str:
    """A driver's statement (`%(name)s` placeholders) as PostgreSQL parses it."""
    return _NAMED.sub("$1", statement).replace("%s", "$1").replace("%%", "%")


def breaches(sql: str, distributed: Mapping[str, str] = DISTRIBUTED) -> list[Breach]:
    """What breaks the rules in one statement (empty: nothing)."""
    found: list[Breach] = []
    for raw in parse_sql(postgres_text(sql)):
        for node in _walk(raw.stmt):
            found += [Breach(rule, table, sql) for rule, table in _judge(node, distributed)]
    return found


def _walk(root: Any) -> Iterator[Any]:
    """Every statement node in the tree: the statement, its CTEs and its subqueries."""
    kinds = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)
    if isinstance(root, kinds):
        yield root

    class _Collect(Visitor):  # type: ignore[misc]
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def visit(self, ancestors: Any, node: Any) -> None:
            if isinstance(node, kinds) and node is not root:
                self.seen.append(node)

    collect = _Collect()
    collect(root)
    yield from collect.seen


def _judge(node: Any, distributed: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    if isinstance(node, ast.InsertStmt):
        table = node.relation.relname
        if table in distributed:
            key = distributed[table]
            if key not in {target.name for target in node.cols or ()}:
                yield "insert", table
            conflict = node.onConflictClause
            if conflict is not None and key in _set_columns(conflict.targetList):
                yield "key_change", table
        return
    ranges = _ranges(node, distributed)
    where = getattr(node, "whereClause", None)
    if isinstance(node, ast.SelectStmt):
        yield from _joins(node, ranges, where, distributed)
        if node.lockingClause:
            for alias, table in ranges.items():
                if not _narrowed(where, alias, distributed[table], single=len(ranges) == 1):
                    yield "lock", table
        return
    table = node.relation.relname
    if table not in distributed:
        return
    alias = node.relation.alias.aliasname if node.relation.alias else table
    key = distributed[table]
    if isinstance(node, ast.UpdateStmt) and key in _set_columns(node.targetList):
        yield "key_change", table
    if not _narrowed(where, alias, key, single=len(ranges) == 1):
        yield "modify", table
    yield from _joins(node, ranges, where, distributed)


def _set_columns(targets: Any) -> set[str]:
    return {target.name for target in targets or ()}


def _ranges(node: Any, distributed: Mapping[str, str]) -> dict[str, str]:
    """Alias -> table, of the distributed tables in the statement's own FROM (and the
    target of an UPDATE or DELETE), not its subqueries'."""
    found: dict[str, str] = {}

    def add(item: Any) -> None:
        if isinstance(item, ast.RangeVar) and item.relname in distributed:
            found[item.alias.aliasname if item.alias else item.relname] = item.relname
        elif isinstance(item, ast.JoinExpr):
            add(item.larg)
            add(item.rarg)

    if isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
        add(node.relation)
    for item in getattr(node, "fromClause", None) or getattr(node, "usingClause", None) or ():
        add(item)
    return found


def _joins(
    node: Any, ranges: Mapping[str, str], where: Any, distributed: Mapping[str, str]
) -> Iterator[tuple[str, str]]:
    """Each distributed table not tied to the first by a chain of equal keys."""
    if len(ranges) < 2:
        return
    quals = [where, *_join_quals(getattr(node, "fromClause", None) or ())]
    parent = {alias: alias for alias in ranges}

    def root(alias: str) -> str:
        while parent[alias] != alias:
            alias = parent[alias]
        return alias

    for qual in quals:
        for left, right in _equal_columns(qual):
            a, b = _keyed(left, ranges, distributed), _keyed(right, ranges, distributed)
            if a is not None and b is not None:
                parent[root(a)] = root(b)
    aliases = list(ranges)
    first = root(aliases[0])
    for alias in aliases[1:]:
        if root(alias) != first:
            yield "join", ranges[alias]


def _join_quals(items: Any) -> Iterator[Any]:
    for item in items:
        if isinstance(item, ast.JoinExpr):
            yield item.quals
            yield from _join_quals((item.larg, item.rarg))


def _conjuncts(expr: Any) -> Iterator[Any]:
    if isinstance(expr, ast.BoolExpr) and expr.boolop == BoolExprType.AND_EXPR:
        for arg in expr.args:
            yield from _conjuncts(arg)
    elif expr is not None:
        yield expr


def _equal_columns(expr: Any) -> Iterator[tuple[Any, Any]]:
    for conjunct in _conjuncts(expr):
        if (
            isinstance(conjunct, ast.A_Expr)
            and _operator(conjunct) == "="
            and isinstance(conjunct.lexpr, ast.ColumnRef)
            and isinstance(conjunct.rexpr, ast.ColumnRef)
        ):
            yield conjunct.lexpr, conjunct.rexpr


def _operator(expr: Any) -> str:
    return str(expr.name[-1].sval) if expr.name else ""


def _column(ref: Any) -> tuple[str | None, str] | None:
    names = [getattr(field, "sval", None) for field in ref.fields]
    if not names or names[-1] is None:
        return None
    return (names[-2] if len(names) > 1 else None), names[-1]


def _keyed(ref: Any, ranges: Mapping[str, str], distributed: Mapping[str, str]) -> str | None:
    """The alias whose key this column is, if it is one."""
    column = _column(ref)
    if column is None:
        return None
    alias, name = column
    if alias is None:
        owners = [a for a, table in ranges.items() if distributed[table] == name]
        return owners[0] if len(owners) == 1 else None
    table = ranges.get(alias)
    return alias if table is not None and distributed[table] == name else None


def _narrowed(where: Any, alias: str, key: str, *, single: bool) -> bool:
    """A conjunct compares this alias's key with values: `=`, `IN` or `= ANY`."""
    for conjunct in _conjuncts(where):
        if not isinstance(conjunct, ast.A_Expr) or _operator(conjunct) != "=":
            continue
        for side, other in ((conjunct.lexpr, conjunct.rexpr), (conjunct.rexpr, conjunct.lexpr)):
            if not isinstance(side, ast.ColumnRef) or isinstance(other, ast.ColumnRef):
                continue
            column = _column(side)
            if column is None or column[1] != key:
                continue
            if column[0] == alias or (column[0] is None and single):
                return True
    return False
