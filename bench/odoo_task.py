"""Runs one benchmark task inside an Odoo process of its own.

``python3 bench/odoo_task.py DB ADDONS_PATH TASK JSON_KWARGS RESULT_FILE``: loads
the database's registry, runs ``task_<TASK>(env, **kwargs)`` as the superuser
(like a cron or a webhook), commits, and writes what it returns as JSON to
RESULT_FILE. Only the benchmarks in this folder call it.
"""

import json
import sys
import time
from collections import Counter

from common import FLEET, SHOP_ID, rss_mb

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tools import config


# ----------------------------------------------------------------- setup
def task_setup(env, sim_url, client_id, client_secret, webhook_secret=None):
    """Point the company at the simulator; a fleet account, a walk-in customer, two products."""
    values = {"api_url": sim_url, "client_id": client_id, "client_secret": client_secret, "shop_id": SHOP_ID,
              "webhook_secret": webhook_secret or False}
    account = env.company._autointegrate_account()
    if account:
        account.write(values)
    else:
        env["autointegrate.account"].create(dict(values, company_id=env.company.id))
    # the poll cron must not run on its own while a benchmark drives the poll
    env.ref("omega_autointegrate.ir_cron_autointegrate_poll").active = False
    account = env["res.partner"].create({"name": "Enterprise Fleet Management", "is_company": True,
                                         "fleet_invoice_method": "autointegrate", "fleet_company_code": FLEET})
    driver = env["res.partner"].create({"name": "Dana Driver", "parent_id": account.id})
    walk_in = env["res.partner"].create({"name": "Walk-in Customer"})
    part = env["product.product"].create({"name": "Windshield FW05432 GTY", "type": "consu", "list_price": 412.0,
                                          "default_code": "GLASS-WS", "fleet_line_type": "glass",
                                          "taxes_id": [Command.clear()]})
    labor = env["product.product"].create({"name": "Install windshield", "type": "service", "list_price": 95.0,
                                           "fleet_service_code": "LAB-GLASS", "taxes_id": [Command.clear()]})
    return {"driver": driver.id, "walk_in": walk_in.id, "part": part.id, "labor": labor.id}


def _line_values(products, index):
    product = products[index % 2]
    quantity = 1.0 if index % 2 == 0 else 1.5
    return {"product_id": product.id, "product_uom_qty": quantity, "tax_id": [Command.clear()]}


def task_seed(env, partner, part, labor, count, lines=2, bind_prefix=None, batch=500, history=False):
    """Create ``count`` jobs, each with a quotation of ``lines`` lines.

    With ``bind_prefix``, each job is bound to a fleet RO ``AI-<prefix><n>``
    as if it had been submitted (status pending, line refs ``L1``...,
    sequence 0), so that any state the fleet sends is newer; with
    ``history`` too, its revision 1 is recorded in the authorization history
    as SEND TO FLEET records it (else, as for a job sent before the history
    existed, the first state of the fleet applied records it).

    :return: ``{"jobs": [{"id", "ro_id", "shop_ro_ref", "total", "lines": [{"line_ref", "quantity", ...}]}]}``
    """
    products = env["product.product"].browse([part, labor])
    out = []
    started = time.time()
    for start in range(0, count, batch):
        size = min(batch, count - start)
        orders = env["sale.order"].create([
            {"partner_id": partner, "order_line": [Command.create(_line_values(products, i)) for i in range(lines)]}
            for _ in range(size)
        ])
        repairs = env["repair.order"].create([
            {"partner_id": partner, "sale_order_id": order.id, "fleet_vin": "1FTFW1E50NFA00001",
             "fleet_complaint": "Windshield cracked across driver view"}
            for order in orders
        ])
        for repair, order in zip(repairs, orders, strict=True):
            job = {"id": repair.id, "shop_ro_ref": repair._fleet_ro_ref(), "lines": []}
            for n, line in enumerate(order.order_line, start=1):
                quantity = f"{line.product_uom_qty:.3f}"
                amount = f"{line.price_subtotal:.2f}"
                job["lines"].append({"line_ref": f"L{n}", "quantity": quantity, "amount": amount,
                                     "unit_price": f"{line.price_unit:.2f}", "sale_line_id": line.id})
            job["total"] = f"{sum(float(line['amount']) for line in job['lines']):.2f}"
            out.append(job)
        if bind_prefix is not None:
            for index, (repair, job) in enumerate(zip(repairs, out[-size:], strict=True)):
                job["ro_id"] = f"AI-{bind_prefix}{start + index:07d}"
                # the fleet's fields, as the apply path writes them (users may not)
                repair._fleet_write_state({"fleet_ro_id": job["ro_id"], "fleet_status": "pending",
                                           "fleet_revision": 1, "fleet_sequence": 0})
                for line, sent in zip(repair.sale_order_id.order_line, job["lines"], strict=True):
                    line._fleet_write_state({"fleet_line_ref": sent["line_ref"], "fleet_status": "pending"})
            if history:
                repairs._fleet_record_revisions([(repair, *repair._fleet_payload_and_lines(), {"revision": 1})
                                                 for repair in repairs])
        env.cr.commit()
        env.invalidate_all()
    return {"jobs": out, "seconds": time.time() - started}


def task_bind(env, repair_ids):
    """Submit jobs to the fleet as SEND TO FLEET does (without the dialog); :return: their fleet RO ids."""
    repairs = env["repair.order"].browse(repair_ids)
    out = {}
    for repair in repairs:
        repair._fleet_send()
        out[repair.id] = repair.fleet_ro_id
        env.cr.commit()
    return {"ro_ids": out}


# ------------------------------------------------------------------ sync
def _query_logger(path):
    """Patch the cursor to write each query (and where it comes from) to ``path``; :return: undo."""
    import traceback

    from odoo.sql_db import Cursor

    original = Cursor.execute
    out = open(path, "w")  # noqa: SIM115 (closed by undo)

    def execute(cr, query, params=None, log_exceptions=True):
        where = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_stack()[-24:-1]]
        out.write(" ".join(str(query).split())[:300] + "\n    " + " < ".join(reversed(where)) + "\n")
        return original(cr, query, params, log_exceptions)

    Cursor.execute = execute

    def undo():
        Cursor.execute = original
        out.close()

    return undo


def task_sync(env, max_pages=1000, log_queries=None, profile=None):
    """Walk the changes feed page by page as the poll cron does (a commit and
    a clean cache per page); :return: time, ROs, queries and memory of each page.

    :param log_queries: a file where the queries of the second page are written
    :param profile: a file where a cProfile of the whole walk is written
    """
    import cProfile

    from odoo.addons.omega_autointegrate.lib import autointegrate

    profiler = cProfile.Profile() if profile else None
    sync = env["autointegrate.sync"]
    company = env.company
    company._autointegrate_account().write({"poll_since": False, "poll_cursor": False, "poll_next_since": False})
    env.cr.commit()
    items = []
    real_changes = autointegrate.Client.changes

    def counted_changes(client, *args, **kwargs):
        page = real_changes(client, *args, **kwargs)
        items.append(len(page["items"]))
        return page

    autointegrate.Client.changes = counted_changes
    rss_start = rss_mb()
    pages = []
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    try:
        for _ in range(max_pages):
            env.invalidate_all()
            undo = _query_logger(log_queries) if log_queries and len(pages) == 1 else None
            count0 = env.cr.sql_log_count
            page_started = time.perf_counter()
            more = sync._poll_company(company)
            env.cr.commit()  # the tracking messages are written at commit: count them with their page
            if undo:
                undo()
            pages.append({"queries": env.cr.sql_log_count - count0, "seconds": time.perf_counter() - page_started,
                          "items": items[-1], "rss_mb": rss_mb()})
            if not more:
                break
    finally:
        autointegrate.Client.changes = real_changes
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {"seconds": seconds, "pages": pages, "rss_start_mb": rss_start}


def task_sync_peer(env, repair_ids, page_size=100):
    """Odoo's own peer of a sync: the same jobs and lines written back, with
    ``write``, to what they held before the fleet's decision (their status
    tracked: a chatter entry per job), page by page as the sync, a commit and
    a clean cache per page. :return: seconds of each page."""
    pages = []
    started = time.perf_counter()
    for start in range(0, len(repair_ids), page_size):
        env.invalidate_all()
        page_started = time.perf_counter()
        repairs = env["repair.order"].search([("id", "in", repair_ids[start:start + page_size])])
        for repair in repairs:
            # a plain write in sudo: the fleet's fields refuse users' writes
            repair._fleet_write_state({"fleet_status": "pending", "fleet_authorization_number": False,
                                       "fleet_decided_by": False, "fleet_decided_at": False,
                                       "fleet_approved_total": 0.0})
            repair.sale_order_id.order_line._fleet_write_state({"fleet_status": "pending", "fleet_approved_qty": 0.0,
                                                                "fleet_approved_amount": 0.0})
        env.cr.commit()
        pages.append({"seconds": time.perf_counter() - page_started, "items": len(repairs)})
    return {"seconds": time.perf_counter() - started, "pages": pages}


def task_check(env, repair_ids):
    """What the jobs show: statuses, decision messages, events, notes."""
    repairs = env["repair.order"].browse(repair_ids)
    subtype = env.ref("omega_autointegrate.mt_fleet_decision")
    messages = env["mail.message"].search_read(
        [("model", "=", "repair.order"), ("res_id", "in", repair_ids), ("subtype_id", "=", subtype.id)], ["res_id"])
    per_job = Counter(message["res_id"] for message in messages)
    events = env["autointegrate.event"].search_read([("repair_id", "in", repair_ids)], ["event_id", "state"])
    return {
        "statuses": {repair.id: repair.fleet_status for repair in repairs},
        "sequences": {repair.id: repair.fleet_sequence for repair in repairs},
        "decision_messages": per_job,
        "events": [[event["event_id"], event["state"]] for event in events],
    }


# ---------------------------------------------------------------- submit
def task_submit(env, partner, part, labor, count, lines):
    """For each of ``count`` jobs of ``lines`` lines, as a shop clicks them,
    each click a transaction of its own (nothing cached from the one before):
    SEND TO FLEET (the dialog opens), SUBMIT REPAIR ORDER (the fleet's answer
    stored), then Odoo's own Confirm of the same quotation.

    :return: seconds of each (commit included) and the queries of each submission
    """
    jobs = task_seed(env, partner, part, labor, count + 1, lines=lines)["jobs"]
    repairs = env["repair.order"].browse([job["id"] for job in jobs])
    opened, submitted, confirmed, queries = [], [], [], []

    def click(action):
        env.invalidate_all()
        count0 = env.cr.sql_log_count
        started = time.perf_counter()
        result = action()
        env.cr.commit()
        return result, time.perf_counter() - started, env.cr.sql_log_count - count0

    for repair in repairs:
        action, seconds, _queries = click(repair.action_send_to_fleet)
        opened.append(seconds)
        wizard = env[action["res_model"]].browse(action["res_id"])
        _result, seconds, count = click(wizard.action_submit)
        submitted.append(seconds)
        queries.append(count)
        _result, seconds, _queries = click(repair.sale_order_id.action_confirm)
        confirmed.append(seconds)
    # the first of each is the warm-up (caches, the token, the connection)
    return {"opened": opened[1:], "submitted": submitted[1:], "confirmed": confirmed[1:], "queries": queries[1:],
            "statuses": sorted(set(repairs.mapped("fleet_status"))),
            "orders": sorted(set(repairs.sale_order_id.mapped("state"))),
            "sent_lines": sorted({len(repair.sale_order_id.order_line.filtered("fleet_line_ref"))
                                  for repair in repairs})}


def task_profile_submit(env, partner, part, labor, lines, out):
    """cProfile of one SEND TO FLEET + SUBMIT (after a warm-up), written to ``out``."""
    import cProfile

    jobs = task_seed(env, partner, part, labor, 2, lines=lines)["jobs"]
    repairs = env["repair.order"].browse([job["id"] for job in jobs])
    profile = cProfile.Profile()
    for index, repair in enumerate(repairs):
        env.invalidate_all()
        if index:
            profile.enable()
        action = repair.action_send_to_fleet()
        env[action["res_model"]].browse(action["res_id"]).action_submit()
        env.cr.commit()
        if index:
            profile.disable()
    profile.dump_stats(out)
    return {}


# --------------------------------------------------------------- invoice
def task_invoice_prepare(env, jobs, walk_in):
    """Approve the fleet jobs (the fleet's state, as the poll would store it),
    make two plain twins of each for a customer without AutoIntegrate,
    confirm all quotations and create their draft invoices."""
    repairs = env["repair.order"].browse([job["id"] for job in jobs])
    states = {}
    for job in jobs:
        states[job["id"]] = {
            "ro_id": job["ro_id"], "revision": 1, "status": "approved", "sequence": job["sequence"],
            "authorization_number": "AUTH-000001", "decided_by": "J. Rivera", "approved_total": job["total"],
            "lines": [{"line_ref": line["line_ref"], "status": "approved", "approved_quantity": line["quantity"],
                       "approved_amount": line["amount"], "reason": None} for line in job["lines"]],
            "notes": [],
        }
    repairs._fleet_apply_states(states)
    for repair in repairs:  # what the fleet approved is what the job is
        repair.fleet_sent_digest = repair.fleet_digest
    twins = [env["sale.order"], env["sale.order"]]
    for repair in repairs:
        for index in range(2):
            twins[index] |= repair.sale_order_id.copy({"partner_id": walk_in})
    env.cr.commit()
    invoices = {"ai": [], "plain": [], "plain_ungated": []}
    for repair in repairs:
        repair.sale_order_id.action_confirm()
        invoices["ai"] += repair.sale_order_id._create_invoices().ids
    for key, orders in zip(("plain", "plain_ungated"), twins, strict=True):
        orders.action_confirm()
        for order in orders:
            invoices[key] += order._create_invoices().ids
    env.cr.commit()
    return invoices


def _answered(env, move, crons):
    """Whether the fleet's answer to the posted fleet invoice ``move`` is
    applied (its job completed). When the posting left the sending to the
    addon's crons (``ir.cron._trigger``), they are run first, as Odoo's cron
    worker would run them at once."""
    for _round in range(3):
        env.invalidate_all()
        if move.fleet_repair_id.fleet_status == "completed":
            return True
        due = env["ir.cron.trigger"].search([("cron_id", "in", crons.ids),
                                             ("call_at", "<=", fields.Datetime.now())])
        if not due:
            return False
        for cron in due.cron_id:
            cron.method_direct_trigger()
        due.unlink()
        env.cr.commit()
    return False


def task_invoice_post(env, ai, plain, plain_ungated, profile=None):
    """Post each invoice in its own transaction (Post, its commit), in turn a
    fleet job's until the fleet's answer is applied, its plain twin's, and
    its other twin's with the addon's override of ``_post`` skipped (the
    posting as without the addon).

    :param profile: a file where a cProfile of the fleet jobs' postings is written
    :return: seconds of each posting, and how many fleet invoices got their answer
    """
    import cProfile

    from odoo.addons.omega_autointegrate.models.account_move import AccountMove

    profiler = cProfile.Profile()
    crons = env["ir.cron"].browse(env["ir.model.data"].search(
        [("module", "=", "omega_autointegrate"), ("model", "=", "ir.cron")]).mapped("res_id")).filtered("active")
    timings = {"ai": [], "plain": [], "plain_ungated": []}
    answered = 0
    try:
        for ids in zip(ai, plain, plain_ungated, strict=True):
            for name, move_id in zip(("ai", "plain", "plain_ungated"), ids, strict=True):
                env.invalidate_all()
                move = env["account.move"].browse(move_id)
                started = time.perf_counter()
                if profile and name == "ai":
                    profiler.enable()
                if name == "plain_ungated":
                    super(AccountMove, move)._post(soft=False)  # what action_post runs, past the addon's override
                else:
                    move.action_post()
                env.cr.commit()
                if name == "ai":
                    answered += _answered(env, move, crons)
                profiler.disable()
                timings[name].append(time.perf_counter() - started)
    finally:
        if profile:
            profiler.dump_stats(profile)
    posted = {name: sum(m.state == "posted" for m in env["account.move"].browse(ids))
              for name, ids in (("ai", ai), ("plain", plain), ("plain_ungated", plain_ungated))}
    return dict(timings, posted=posted, answered=answered)


def main():
    db, addons, task, kwargs, result_file = sys.argv[1:6]
    config.parse_config(["-d", db, f"--addons-path={addons}", "--log-level=warn", "--without-demo=all"])
    odoo.service.server.load_server_wide_modules()
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = globals()[f"task_{task}"](env, **json.loads(kwargs))
        cr.commit()
    with open(result_file, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
