#!/usr/bin/env bash
# make test: sets up what is missing (scripts/env.sh), runs the Odoo-free
# tests with pytest under Odoo's pinned libraries and under current ones,
# then the addon's tests inside Odoo 18 on a fresh database copied from a
# template. The last line sums up every runner.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p .run

passed=0 failed=0 skipped=0 rc=0
summary() {
  printf '\nall: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
}

step "Setting up (each step once; later runs reuse $OMEGA_CACHE)"
ensure_tools_venv || { say "!! the test tools could not be set up"; exit 1; }
have_odoo=1
find_odoo || have_odoo=0

# pytest: its own summary line gives the counts (tests may print "N errors" themselves)
pytest_count() {  # summary line, word: the number before the word, 0 when absent
  local n
  n=$(echo "$1" | grep -Eo "[0-9]+ $2" | tail -1 | cut -d' ' -f1)
  echo "${n:-0}"
}
run_pytest() {  # label, python
  local label=$1 python=$2 log=".run/pytest-$1.log" line code
  step "Odoo-free tests under $label libraries ($(project_python "$python" -c \
    'import requests, urllib3; print(f"requests {requests.__version__}, urllib3 {urllib3.__version__}")'))"
  project_python "$python" -m pytest tests -q -p no:cacheprovider 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  [ "$code" = 5 ] && code=0  # no test collected is not a failure of ours
  [ "$code" = 0 ] || rc=1
  line=$(grep -aE '^(=+ )?[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' "$log" | tail -1)
  passed=$((passed + $(pytest_count "$line" passed)))
  failed=$((failed + $(pytest_count "$line" failed) + $(pytest_count "$line" error)))
  skipped=$((skipped + $(pytest_count "$line" skipped)))
  say "pytest ($label): ${line:-no summary line}"
}
# PYTEST=0 leaves the Odoo-free tests out while working on the addon
if [ "${PYTEST:-1}" = 1 ]; then
  [ "$have_odoo" = 1 ] && run_pytest pinned "$PY"
  run_pytest current "$TOOLS_PY"
fi

if [ "$have_odoo" = 0 ]; then
  step "Odoo tests"
  say "ODOO TESTS SKIPPED: Odoo 18 not importable and not set up"
  say "(set ODOO_SOURCE to a reachable Odoo 18.0 repository, or ODOO_PATH to a checkout; see README.md)"
  summary
  exit "$rc"
fi

step "Odoo tests (Odoo at $ODOO_ROOT)"
ensure_postgres || { say "!! PostgreSQL is needed for the Odoo tests"; summary; exit 1; }
ensure_chromium || { say "!! Chromium is needed for the browser tours"; summary; exit 1; }

# A template with the addon's dependencies installed makes each run fast;
# its name changes when Odoo's version or the addon's dependencies change.
deps=$(addon_depends)
template=$(template_db "$deps")
if ! db_exists "$template"; then
  say "building template database $template ($deps), once"
  if ! odoo_bin -d "$template" -i "$deps" --addons-path="$ODOO_ADDONS" --without-demo=all \
      --stop-after-init --http-port="$(free_port)" --log-level=warn > .run/template.log 2>&1; then
    tail -50 .run/template.log
    dropdb --if-exists "$template"
    say "!! could not build the template database"; summary; exit 1
  fi
fi

db="omega_ai_test_$$"
createdb -T "$template" "$db" || { say "!! createdb failed"; summary; exit 1; }
trap 'dropdb --if-exists "$db" 2>/dev/null' EXIT
# ODOO_TEST_TAGS narrows the run while working (e.g. /omega_autointegrate:TestSendToFleet)
odoo_bin -d "$db" -i omega_autointegrate --test-tags "${ODOO_TEST_TAGS:-/omega_autointegrate}" \
  --addons-path="$ODOO_ADDONS" --without-demo=all --stop-after-init \
  --http-port="$(free_port)" --log-level=test 2>&1 | tee .run/odoo-test.log
odoo_rc=${PIPESTATUS[0]}

# -a: tests of hostile input log bytes that are not text; at_install and post_install runs report apart
results=$(grep -aE "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" .run/odoo-test.log)
if [ -z "$results" ]; then
  say "!! Odoo did not report any test result"
  failed=$((failed + 1))
  odoo_rc=1
else
  read -r o_failed o_errors o_total < <(echo "$results" \
    | sed -E 's/.* ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' \
    | awk '{f += $1; e += $2; t += $3} END {print f, e, t}')
  o_bad=$((o_failed + o_errors))
  say "odoo: $((o_total - o_bad)) passed, $o_bad failed"
  passed=$((passed + o_total - o_bad)); failed=$((failed + o_bad))
  [ "$o_total" -gt 0 ] || { say "!! Odoo ran no test"; odoo_rc=1; }
fi
errors=$(grep -acE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' .run/odoo-test.log)
if [ "$errors" -gt 0 ]; then
  say "!! $errors ERROR/CRITICAL line(s) in the Odoo log (.run/odoo-test.log):"
  grep -aE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' .run/odoo-test.log | head -20
  odoo_rc=1
fi
summary
[ "$rc" = 0 ] && [ "$odoo_rc" = 0 ] && [ "$failed" = 0 ]
