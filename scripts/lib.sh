# Shared helpers of the project's make targets (sourced, not run).
# Sets up what is missing (scripts/env.sh), finds Odoo 18, starts PostgreSQL
# when it is stopped, and runs odoo-bin.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }

source "$ROOT/scripts/env.sh"

# The project runs from its checkout, nothing installed: the simulator and
# the benchmarks from the top, the wire protocol from inside the addon. Odoo
# itself never gets this path: the addon must stand alone.
PROJECT_PYTHONPATH="$ROOT:$ROOT/omega_autointegrate/lib"
# where the addon's tests find the simulator they start as a process of its own
export AUTOINTEGRATE_SIM_PYTHONPATH="$PROJECT_PYTHONPATH"

project_python() {  # python, arguments...: a Python of the project's with its packages on the path
  local python=$1
  shift
  PYTHONPATH="$PROJECT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}" "$python" "$@"
}

# Sets PY (the Python that runs Odoo), ODOO_ROOT, ODOO_BIN and ODOO_ADDONS:
# ODOO_PATH when it is given, else an Odoo 18 that python3 imports, else the
# cache's Odoo, set up when missing (ODOO_SOURCE, ODOO_REF). Returns 1 when
# there is none and none can be set up.
find_odoo() {
  PY=${PYTHON:-python3}
  if [ -n "${ODOO_PATH:-}" ]; then
    if [ ! -f "$ODOO_PATH/odoo/release.py" ]; then
      say "!! ODOO_PATH=$ODOO_PATH does not contain an odoo/ package"; return 1
    fi
    export PYTHONPATH="$ODOO_PATH${PYTHONPATH:+:$PYTHONPATH}"
    is_odoo18 "$PY" || { say "!! ODOO_PATH=$ODOO_PATH is not an Odoo 18 that $PY can import"; return 1; }
    ensure_test_tools_for "$PY" || return 1
  elif is_odoo18 "$PY"; then
    ensure_test_tools_for "$PY" || return 1
  elif [ "${OMEGA_NO_ODOO_SETUP:-0}" = 1 ]; then
    return 1
  else
    ensure_odoo_source && ensure_odoo_venv || return 1
    PY="$ODOO_HOME/venv/bin/python"
  fi
  ODOO_ROOT=$(cd / && "$PY" -c 'import odoo, os; print(os.path.dirname(os.path.dirname(os.path.abspath(odoo.__file__))))')
  ODOO_BIN="$ODOO_ROOT/odoo-bin"
  [ -f "$ODOO_BIN" ] || ODOO_BIN=""
  # Odoo's apps, then a folder holding the addon alone (a link to it): what a
  # shop does when it copies the folder into its addons path
  ODOO_ADDONS="$ROOT/.run/addons"
  mkdir -p "$ODOO_ADDONS"
  ln -sfn "$ROOT/omega_autointegrate" "$ODOO_ADDONS/omega_autointegrate"
  [ -d "$ODOO_ROOT/addons" ] && ODOO_ADDONS="$ODOO_ROOT/addons,$ODOO_ADDONS"
  [ -d "$ODOO_ROOT/odoo/addons" ] && ODOO_ADDONS="$ODOO_ROOT/odoo/addons,$ODOO_ADDONS"
  export PY ODOO_ROOT ODOO_BIN ODOO_ADDONS
}

is_odoo18() {
  (cd / && "$1" -c 'import odoo, sys; sys.exit(0 if odoo.release.version_info[0] == 18 else 1)') 2>/dev/null
}

# odoo-bin, whichever way Odoo was installed, from / so that the checkout is
# not on Odoo's sys.path (the addon may import nothing of the project's).
odoo_bin() {
  if [ -n "$ODOO_BIN" ]; then
    (cd / && "$PY" "$ODOO_BIN" "$@")
  else
    (cd / && "$PY" -c 'import sys, odoo.cli; sys.argv[0] = "odoo-bin"; odoo.cli.main()' "$@")
  fi
}

# Start the local PostgreSQL cluster if it is down (installing Debian's
# package when there is none and root or sudo is at hand), and give the
# current user a superuser role in it (Odoo connects over the local socket).
ensure_postgres() {
  local me sudo=""
  me=$(id -un)
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! command -v pg_lsclusters >/dev/null 2>&1 && ! command -v pg_isready >/dev/null 2>&1; then
    apt_install postgresql postgresql-client || {
      say "!! PostgreSQL is missing. Install it, then run this again:"
      say "   sudo apt-get install -y postgresql"
      return 1
    }
  fi
  if pg_isready -q 2>/dev/null; then
    say "PostgreSQL: running"
  elif command -v pg_lsclusters >/dev/null 2>&1; then
    local version cluster
    read -r version cluster < <(pg_lsclusters -h | awk 'NR==1 {print $1, $2}')
    if [ -z "${version:-}" ]; then say "!! no PostgreSQL cluster found (pg_lsclusters)"; return 1; fi
    say "PostgreSQL: starting $version/$cluster"
    $sudo pg_ctlcluster "$version" "$cluster" start || {
      say "!! could not start PostgreSQL; run: sudo pg_ctlcluster $version $cluster start"; return 1; }
    for _ in $(seq 1 30); do pg_isready -q && break; sleep 0.5; done
  else
    say "!! PostgreSQL is not running and pg_ctlcluster is not available: start it yourself"; return 1
  fi
  if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    say "PostgreSQL: creating the role $me"
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- createuser -s "$me"
    else sudo -u postgres createuser -s "$me"; fi || {
      say "!! could not create the role; run: sudo -u postgres createuser -s $me"; return 1; }
  fi
}

# Debian's packages, when root or a password-less sudo is at hand
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  say "installing Debian's $* (apt-get)"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"; } >/dev/null 2>&1
}

# The addon's browser tours run in Chromium (Debian's package).
ensure_chromium() {
  local browser
  for browser in chromium chromium-browser google-chrome; do
    if command -v "$browser" >/dev/null 2>&1; then say "Chromium: $(command -v "$browser")"; return 0; fi
  done
  apt_install chromium && command -v chromium >/dev/null 2>&1 && { say "Chromium: installed"; return 0; }
  say "!! Chromium is missing for the browser tours. Install it, then run this again:"
  say "   sudo apt-get install -y chromium"
  return 1
}

# The fleet simulator's arguments as the demo's company knows it
# (demo/res_company_demo.xml): its two fleets and the shop's API account.
DEMO_SIM_ARGS=(--host 127.0.0.1 --admin --fleet ENT-0042 --fleet ELM-7:250.00
  --client-id demo-shop --client-secret demo-secret --shop-id SHOP-17)

addon_depends() {  # the addon's manifest dependencies, comma-separated
  "$PY" -c 'import ast, sys; m = ast.literal_eval(open(sys.argv[1]).read()); print(",".join(m["depends"]))' \
    "$ROOT/omega_autointegrate/__manifest__.py"
}

# The test template: the addon's dependencies installed, named after Odoo's
# version and those dependencies (make test builds it; bench and make pot copy it).
template_db() {  # comma-separated dependencies
  echo "omega_ai_tmpl_$("$PY" -c 'import hashlib, sys, odoo; print(hashlib.sha1((odoo.release.version + sys.argv[1]).encode()).hexdigest()[:10])' "$1")"
}

db_exists() {
  [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
