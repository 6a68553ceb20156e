# Omega AutoIntegrate — see README.md
.PHONY: test demo sim lint pot clean-db bench

test:  ## all tests: pytest, then the addon's tests in Odoo 18 when it is installed
	@bash scripts/test.sh

demo:  ## Odoo with the addon and demo data on http://localhost:8069, the simulator as its fleet
	@bash scripts/demo.sh

sim:  ## the fleet simulator alone on http://127.0.0.1:8070 (fleet page at /_admin/)
	@bash -c 'source scripts/lib.sh && ensure_tools_venv >/dev/null && project_python "$$TOOLS_PY" -m autointegrate_sim "$${DEMO_SIM_ARGS[@]}" --port 8070'

lint:  ## ruff, pylint-odoo's mandatory checks and the addon's XML checks (no network needed once installed)
	@bash scripts/lint.sh

pot:  ## export the addon's translation template omega_autointegrate/i18n/omega_autointegrate.pot with Odoo
	@bash scripts/export_pot.sh

bench:  ## the benchmarks of docs/benchmarks.md, Odoo run for real (not part of make test); BENCH_ARGS=--quick: smaller sizes
	@bash -c 'source scripts/lib.sh && find_odoo && ensure_postgres && project_python "$$PY" bench/run_all.py $(BENCH_ARGS)'

clean-db:  ## drop the test template databases (rebuilt on the next make test)
	@for db in $$(psql -d postgres -tAc "select datname from pg_database where datname like 'omega_ai_%'"); do \
		dropdb "$$db" && echo "dropped $$db"; done
