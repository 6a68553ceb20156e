#!/usr/bin/env bash
# make lint: the checks of .pre-commit-config.yaml with the tools installed on
# this machine, so that it needs no network once they are there: ruff,
# pylint-odoo's mandatory checks (.pylintrc-mandatory) on the addon, and the
# addon's XML checks (scripts/lint_xml.py). Fails when any of them finds
# something.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# the tools live in the cache's tools-venv (scripts/env.sh): set up once, no
# network afterwards, Odoo's own environment untouched
ensure_tools_venv || exit 1
PY=$TOOLS_PY

rc=0
step "ruff"
"$PY" -m ruff check . || rc=1
step "pylint-odoo (mandatory checks) on omega_autointegrate"
"$PY" -m pylint --rcfile=.pylintrc-mandatory omega_autointegrate && say "pylint-odoo: no problem" || rc=1
step "XML and data files"
"$PY" scripts/lint_xml.py || rc=1

[ "$rc" = 0 ] && say "lint: all checks passed" || say "!! lint: problems above"
exit "$rc"
