#!/usr/bin/env bash
# make test: the Odoo-free tests with pytest, then the addon's tests inside
# Odoo 18 on a fresh database copied from a template.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p .run

step "Installing the project (pip install -e .[test])"
install_project "[test]" || exit 1

step "Odoo-free tests (pytest)"
"$PY" -m pytest tests -q -p no:cacheprovider -p no:odoo 2>&1 | tee .run/pytest.log
pytest_rc=${PIPESTATUS[0]}
[ "$pytest_rc" = 5 ] && pytest_rc=0  # no test collected is not a failure of ours
# counts from pytest's own summary line only: tests may print "N errors" themselves
py_summary=$(grep -aE '^(=+ )?[0-9]+ (passed|failed|errors?|skipped).* in [0-9.]+s' .run/pytest.log | tail -1)
count() { echo "$py_summary" | grep -Eo "[0-9]+ $1" | tail -1 | cut -d' ' -f1; }
py_passed=$(count passed); py_failed=$(count failed)
py_errors=$(count error); py_skipped=$(count skipped)
passed=${py_passed:-0}; failed=$(( ${py_failed:-0} + ${py_errors:-0} )); skipped=${py_skipped:-0}

summary() {
  printf '\nall: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
}

if ! find_odoo; then
  step "Odoo tests"
  say "ODOO TESTS SKIPPED: Odoo 18 not importable"
  say "(install Odoo 18.0 Community so that '$PY -c \"import odoo\"' works, or set ODOO_PATH; see README.md)"
  summary
  exit "$pytest_rc"
fi

step "Odoo tests (Odoo at $ODOO_ROOT)"
ensure_postgres || { say "!! PostgreSQL is needed for the Odoo tests"; summary; exit 1; }
ensure_chromium || { say "!! Chromium is needed for the browser tours"; summary; exit 1; }

# A template with the addon's dependencies installed makes each run fast;
# its name changes when Odoo's version or the addon's dependencies change.
deps=$("$PY" -c 'import ast; m = ast.literal_eval(open("omega_autointegrate/__manifest__.py").read()); print(",".join(m["depends"]))')
key=$("$PY" -c 'import hashlib, sys, odoo; print(hashlib.sha1((odoo.release.version + sys.argv[1]).encode()).hexdigest()[:10])' "$deps")
template="omega_ai_tmpl_$key"
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
odoo_bin -d "$db" -i omega_autointegrate --test-tags /omega_autointegrate \
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
[ "$pytest_rc" = 0 ] && [ "$odoo_rc" = 0 ] && [ "$failed" = 0 ]
