# Shared helpers of the project's make targets (sourced, not run).
# Finds Odoo 18, starts PostgreSQL when it is stopped, and runs odoo-bin.

PY=${PYTHON:-python3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }

# Install the project's Python packages (autointegrate, the simulator) so that
# Odoo's python can import them; quiet unless it fails.
install_project() {
  local extra=${1:-}
  local log
  log=$(mktemp)
  if ! "$PY" -m pip install --disable-pip-version-check -q -e "$ROOT${extra}" >"$log" 2>&1; then
    cat "$log"; rm -f "$log"
    say "!! could not install the project with pip"; return 1
  fi
  rm -f "$log"
}

# Sets ODOO_ROOT and ODOO_ADDONS when Odoo 18 is importable (or ODOO_PATH
# points to a checkout); returns 1 otherwise.
find_odoo() {
  if [ -n "${ODOO_PATH:-}" ]; then
    if [ ! -d "$ODOO_PATH/odoo" ]; then
      say "!! ODOO_PATH=$ODOO_PATH does not contain an odoo/ package"; return 1
    fi
    export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
  fi
  "$PY" -c 'import odoo, sys; sys.exit(0 if odoo.release.version_info[0] == 18 else 1)' 2>/dev/null || return 1
  ODOO_ROOT=$("$PY" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))')
  ODOO_ADDONS="$ROOT"
  # a source checkout keeps the apps beside the odoo package; a wheel inside it
  [ -d "$ODOO_ROOT/addons" ] && ODOO_ADDONS="$ODOO_ROOT/addons,$ODOO_ADDONS"
  [ -d "$ODOO_ROOT/odoo/addons" ] && ODOO_ADDONS="$ODOO_ROOT/odoo/addons,$ODOO_ADDONS"
  export ODOO_ROOT ODOO_ADDONS
}

# odoo-bin, whichever way Odoo was installed.
odoo_bin() {
  "$PY" -c 'import sys, odoo.cli; sys.argv[0] = "odoo-bin"; odoo.cli.main()' "$@"
}

# Start the local PostgreSQL cluster if it is down, and give the current user
# a superuser role in it (Odoo connects over the local socket as this user).
ensure_postgres() {
  local me
  me=$(id -un)
  if ! pg_isready -q 2>/dev/null; then
    if command -v pg_lsclusters >/dev/null 2>&1; then
      local version cluster
      read -r version cluster < <(pg_lsclusters -h | awk 'NR==1 {print $1, $2}')
      if [ -z "${version:-}" ]; then say "!! no PostgreSQL cluster found (pg_lsclusters)"; return 1; fi
      say "starting PostgreSQL $version/$cluster"
      if [ "$(id -u)" = 0 ]; then pg_ctlcluster "$version" "$cluster" start
      else sudo pg_ctlcluster "$version" "$cluster" start; fi || return 1
    else
      say "!! PostgreSQL is not running and pg_ctlcluster is not available: start it yourself"; return 1
    fi
    for _ in $(seq 1 30); do pg_isready -q && break; sleep 0.5; done
  fi
  if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "creating PostgreSQL role $me"
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- createuser -s "$me"
    else sudo -u postgres createuser -s "$me"; fi || return 1
  fi
}

# The addon's browser tour runs in Chromium (Debian's package).
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || command -v google-chrome >/dev/null 2>&1 && return 0
  say "installing Debian's chromium for the browser tour"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } >/dev/null 2>&1
  command -v chromium >/dev/null 2>&1
}

# The fleet simulator's arguments as the demo's company knows it
# (demo/res_company_demo.xml): its two fleets and the shop's API account.
DEMO_SIM_ARGS=(--host 127.0.0.1 --admin --fleet ENT-0042 --fleet ELM-7:250.00
  --client-id demo-shop --client-secret demo-secret --shop-id SHOP-17)

db_exists() {
  [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
