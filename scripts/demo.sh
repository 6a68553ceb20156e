#!/usr/bin/env bash
# make demo: the fleet simulator on :8070 and Odoo with the addon and its demo
# data on :8069, configured to use the simulator. Ctrl-C stops both.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
mkdir -p .run

DB=${DEMO_DB:-omega_autointegrate_demo}
SIM_PORT=${SIM_PORT:-8070}
ODOO_PORT=${ODOO_PORT:-8069}

step "Setting up (each step once; later runs reuse $OMEGA_CACHE)"
if ! find_odoo; then
  say "!! make demo needs Odoo 18.0 Community: set ODOO_SOURCE to a reachable Odoo 18.0 repository, or"
  say "   ODOO_PATH to a checkout whose requirements are installed. See 'Prerequisites' in README.md."
  exit 1
fi
ensure_postgres || exit 1

# the simulator's ROs of this database's jobs (one file per demo database)
SIM_DB=.run/demo-sim.sqlite3
[ "$DB" = omega_autointegrate_demo ] || SIM_DB=.run/demo-sim-$DB.sqlite3
fresh=0
if ! db_exists "$DB"; then
  fresh=1
  # a new shop starts with a new fleet: the demo story sends its jobs again
  rm -f "$SIM_DB"
elif [ ! -f "$SIM_DB" ]; then
  say "!! $SIM_DB is gone: the simulator no longer knows the demo jobs' ROs. To start over:"
  say "   dropdb $DB   (then make demo again)"
fi

step "Fleet simulator on http://127.0.0.1:$SIM_PORT (fleet page: http://127.0.0.1:$SIM_PORT/_admin/)"
project_python "$PY" -m autointegrate_sim "${DEMO_SIM_ARGS[@]}" --port "$SIM_PORT" \
  --webhook-url "http://127.0.0.1:$ODOO_PORT/autointegrate/webhook/$DB" --webhook-secret demo-webhook-secret \
  --webhook-backoff 2 --db "$SIM_DB" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null' EXIT
sleep 1
kill -0 "$sim_pid" 2>/dev/null || { say "!! the simulator did not start (is port $SIM_PORT free?)"; exit 1; }

if [ "$fresh" = 0 ]; then
  step "Updating database $DB"
  odoo_bin -d "$DB" -u omega_autointegrate --addons-path="$ODOO_ADDONS" --stop-after-init \
    --http-port="$(free_port)" --log-level=warn || exit 1
else
  step "Creating database $DB with demo data (a few minutes, once)"
  odoo_bin -d "$DB" -i omega_autointegrate --addons-path="$ODOO_ADDONS" --stop-after-init \
    --http-port="$(free_port)" --log-level=warn || { dropdb --if-exists "$DB"; exit 1; }
  step "Demo story: the shop sends its jobs, the fleets decide (scripts/demo_story.py)"
  # the story drives the simulator's control API: the one Odoo process given the project's path
  PYTHONPATH="$PROJECT_PYTHONPATH" AUTOINTEGRATE_SIM_URL="http://127.0.0.1:$SIM_PORT" odoo_bin shell -d "$DB" --addons-path="$ODOO_ADDONS" \
    --no-http --log-level=warn < scripts/demo_story.py || say "!! the demo story stopped early; Odoo starts anyway"
fi

step "Odoo on http://localhost:$ODOO_PORT (login admin / admin) — Ctrl-C stops Odoo and the simulator"
# Odoo's threaded server starts a thread per connection, each taking a database connection from a pool
# of db_maxconn (64): a burst of fleet webhooks (or of anything) beyond that is answered 500 "connection
# pool is full" before any addon runs. Odoo's own bound: "auto" is half the pool (docs/reliability.md).
export ODOO_MAX_HTTP_THREADS=${ODOO_MAX_HTTP_THREADS:-auto}
odoo_bin -d "$DB" --addons-path="$ODOO_ADDONS" --http-port="$ODOO_PORT" --db-filter="^$DB\$"
