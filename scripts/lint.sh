#!/usr/bin/env bash
# make lint: the checks of .pre-commit-config.yaml with the tools installed on
# this machine, so that it needs no network once they are there: ruff,
# pylint-odoo's mandatory checks (.pylintrc-mandatory) on the addon, and the
# addon's XML checks (scripts/lint_xml.py). Fails when any of them finds
# something.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# pinned like .pre-commit-config.yaml; neither touches Odoo's own requirements
LINT_REQUIREMENTS=("ruff>=0.5" "pylint-odoo==10.0.12")

if ! "$PY" -m ruff --version >/dev/null 2>&1 || ! "$PY" -c 'import pylint_odoo' >/dev/null 2>&1; then
  step "Installing the lint tools (${LINT_REQUIREMENTS[*]})"
  "$PY" -m pip install --disable-pip-version-check -q "${LINT_REQUIREMENTS[@]}" || { say "!! could not install them"; exit 1; }
  "$PY" -m pip check || say "!! pip check reports a conflict (above)"
fi

rc=0
step "ruff"
"$PY" -m ruff check . || rc=1
step "pylint-odoo (mandatory checks) on omega_autointegrate"
"$PY" -m pylint --rcfile=.pylintrc-mandatory omega_autointegrate && say "pylint-odoo: no problem" || rc=1
step "XML and data files"
"$PY" scripts/lint_xml.py || rc=1

[ "$rc" = 0 ] && say "lint: all checks passed" || say "!! lint: problems above"
exit "$rc"
