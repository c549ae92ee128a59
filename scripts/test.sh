#!/usr/bin/env bash
# Lint, type-check, check import contracts and test; exits non-zero when any step fails (all steps run).
# On success pytest's summary is the last line printed.
# Extra arguments go to pytest. Tools come from $VENV (default .venv).
# Tests run in $TEST_WORKERS parallel processes (default 2), a whole test file per process
# at a time so its fixtures are made once; TEST_WORKERS=0 runs them in this one process.
# Tests marked `latency` (a bound on how fast the service answers) run afterwards, alone,
# so a browser test on the other worker does not eat their margin.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
bin="$VENV/bin"
[ -x "$bin/pytest" ] || { echo "test: $bin/pytest missing; run scripts/bootstrap.sh" >&2; exit 1; }

if [ -t 1 ]; then B=$'\033[1m' R=$'\033[1;31m' N=$'\033[0m'; else B="" R="" N=""; fi

failed=()
step() {
    local name="$1"
    shift
    printf '\n%s== %s%s\n' "$B" "$name" "$N"
    "$@" || failed+=("$name")
}

step "ruff check" "$bin/ruff" check .
step "ruff format --check" "$bin/ruff" format --check .
step "mypy" "$bin/mypy"
step "import contracts" "$bin/lint-imports"
# pytest's exit code 5 is "no test selected": one phase may select none, not both
phase() {
    local name="$1"
    shift
    printf '\n%s== %s%s\n' "$B" "$name" "$N"
    "$@"
    local code=$?
    [ "$code" -eq 5 ] && code=0 && empty+=("$name")
    [ "$code" -eq 0 ] || failed+=("$name")
}
empty=()
phase "pytest" "$bin/pytest" -p no:cacheprovider -m "not latency" \
    -n "${TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder --durations=25 "$@"
phase "pytest: latency" "$bin/pytest" -p no:cacheprovider -m latency "$@"
[ "${#empty[@]}" -lt 2 ] || failed+=("pytest: no test selected")

if [ "${#failed[@]}" -gt 0 ]; then
    printf '\n%sFAILED:%s %s\n' "$R" "$N" "$(printf '%s; ' "${failed[@]}")" >&2
    exit 1
fi
