#!/usr/bin/env bash
# make pot: export omega_autointegrate/i18n/omega_autointegrate.pot with Odoo
# (--i18n-export) from a scratch database copied from the test template.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
find_odoo || { say "!! make pot needs Odoo 18 (see README.md)"; exit 1; }
ensure_postgres || exit 1
template=$(template_db "$(addon_depends)")
db_exists "$template" || { say "!! no template database $template: run make test once first"; exit 1; }
db="omega_ai_pot_$$"
createdb -T "$template" "$db" || exit 1
trap 'dropdb --if-exists "$db"' EXIT
mkdir -p omega_autointegrate/i18n .run
odoo_bin -d "$db" -i omega_autointegrate --addons-path="$ODOO_ADDONS" --without-demo=all --stop-after-init \
  --http-port="$(free_port)" --log-level=warn > .run/pot.log 2>&1 || { tail -20 .run/pot.log; exit 1; }
odoo_bin -d "$db" --addons-path="$ODOO_ADDONS" --modules=omega_autointegrate --stop-after-init \
  --i18n-export="$ROOT/omega_autointegrate/i18n/omega_autointegrate.pot" \
  --http-port="$(free_port)" --log-level=warn >> .run/pot.log 2>&1 || { tail -20 .run/pot.log; exit 1; }
say "wrote omega_autointegrate/i18n/omega_autointegrate.pot ($(grep -c '^msgid' omega_autointegrate/i18n/omega_autointegrate.pot) terms)"
