"""make demo: send the demo jobs to the fleet simulator and have the fleets decide.

Run by scripts/demo.sh once, right after the demo database is created, inside
``odoo-bin shell`` (which provides ``env``) while the simulator runs:

    odoo-bin shell -d DB --no-http < scripts/demo_story.py

The demo data (demo/autointegrate_demo.xml) holds the static records: accounts,
products, jobs with their vehicles and parts. This script adds the labour to
the jobs' quotations, submits them with the shop's notes, makes the fleets
decide through the simulator's control API (``/_admin``), reads the fleets'
answers back, and then invoices, cancels or edits some jobs, so that the shop
opens with a job in every fleet status. The dates of submission and decision
are spread over the last months, so that Fleet Approvals Analysis has a
history to show. Jobs already sent are left alone: running it twice is
harmless.
"""

import base64
import logging
import os
from datetime import timedelta

from odoo import Command, fields
from odoo.tools import file_open

from autointegrate_sim.admin import AdminClient

_logger = logging.getLogger("demo_story")

ENTERPRISE = "J. Rivera (Enterprise Fleet)"
ELEMENT = "M. Chen (Element Fleet)"

#: per demo job: labour added to its quotation, notes, the fleet's notes and
#: decision, how far the work went, what the shop does next, and when (days
#: ago, hours to decide)
STORY = {
    "repair_adas_pending": {
        "services": [("product_adas_calibration", 1.0), ("product_install_labor", 1.0)],
        "note": "Customer waits in the lobby: please approve today.",
        "line_notes": {"product_adas_calibration": "The lane-keeping camera sits behind this glass: the "
                                                   "manufacturer requires a recalibration after replacement."},
        # what Enterprise's rules ask for, sent with the RO
        "documents": [("attachment_adas_crack_photo", "photo", "product_windshield"),
                      ("attachment_adas_calibration_report", "calibration_report", "product_adas_calibration")],
        "days_ago": 0.1,
    },
    "repair_overdue": {
        # waiting longer than Enterprise's agreed 4 hours: escalated to its contact
        "services": [("product_install_labor", 1.0)],
        "days_ago": 0.3,
    },
    "repair_labor_partial": {
        "services": [("product_install_labor", 1.5)],
        "line_notes": {"product_install_labor": "1.5 h: the cowl panel has to come off on this truck."},
        "fleet_notes": [("product_install_labor", "Our rate card allows 1.0 h for this glass.", False)],
        "decide": {"lines": {"product_windshield": {"status": "approved"},
                             "product_install_labor": {"status": "denied",
                                                       "reason": "Labor exceeds 1.0 h rate card"}}},
        "by": ENTERPRISE, "days_ago": 12, "hours": 4,
    },
    "repair_door_glass_denied": {
        "services": [("product_install_labor", 1.0)],
        "note": "Break-in overnight; police report #SAC-2291 attached to the driver's file.",
        "decide": {"deny_all": "Vandalism is covered by the driver's insurance claim, not by the lease."},
        "by": ENTERPRISE, "days_ago": 45, "hours": 26,
    },
    "repair_info_requested": {
        "services": [("product_install_labor", 1.0)],
        # the job has a photo of the damage (Send the Requested Documents offers it), not of the odometer
        "request_documents": [("photo", "product_windshield", "Please send a photo of the damage."),
                              ("photo", None, "Please send a photo of the current odometer reading.")],
        "by": ENTERPRISE, "days_ago": 2, "hours": 6,
    },
    "repair_approved": {
        "services": [("product_install_labor", 1.0)],
        "decide": {"all": "approved"},
        # the fleet's purchase order, downloaded into the job's attachments
        "fleet_documents": [("enterprise_po_4471.pdf", "purchase_order", "Purchase order PO-4471")],
        "work": "start",
        "by": ENTERPRISE, "days_ago": 6, "hours": 1.5,
    },
    "repair_changed": {
        "services": [("product_install_labor", 1.0)],
        "decide": {"all": "approved"},
        "then": "change",
        "by": ENTERPRISE, "days_ago": 25, "hours": 2,
    },
    "repair_invoiced": {
        "services": [("product_install_labor", 1.0)],
        "note": "Hail damage; the driver can bring the car in on Monday.",
        "decide": {"all": "approved"},
        # the wipers were found worn once the car was in: a supplement, approved, then invoiced
        "supplement": [("product_wiper", 2.0)],
        "work": "done",
        "then": "invoice",
        "by": ENTERPRISE, "days_ago": 70, "hours": 5,
    },
    "repair_cancelled": {
        "services": [("product_install_labor", 1.0)],
        "then": "cancel",
        "days_ago": 15,
    },
    "repair_wipers_element": {
        # within Element's limit (250.00): approved on submission
        "services": [("product_install_labor", 0.5)],
        "work": "done",
        "days_ago": 4, "hours": 0,
    },
    "repair_element_adjusted": {
        "services": [("product_install_labor", 1.0)],
        "decide": {"lines": {"product_windshield": {"status": "approved", "approved_amount": "380.00",
                                                    "reason": "Contract price for this glass is 380.00"},
                             "product_install_labor": {"status": "approved"}}},
        "work": "confirm",
        "by": ELEMENT, "days_ago": 38, "hours": 3,
    },
}


def tell(story, *args):
    _logger.warning(story, *args)  # the shell runs at log level warn: make the steps visible


def _line_finder(env, repair):
    """:return: a function giving the job's quotation line of a demo product (by XML id)."""

    def line_of(product_xmlid):
        product = env.ref(f"omega_autointegrate.{product_xmlid}")
        return repair.sale_order_id.order_line.filtered(lambda sale_line: sale_line.product_id == product)[:1]

    return line_of


def main(env):
    env = env(user=env.ref("base.user_admin"))
    company = env.ref("base.main_company")
    sim_url = os.environ.get("AUTOINTEGRATE_SIM_URL")
    account = company._autointegrate_account()
    if sim_url and sim_url != account.api_url:
        account.api_url = sim_url  # make demo SIM_PORT=...: the simulator is elsewhere
    admin = AdminClient(sim_url or account.api_url)
    now = fields.Datetime.now()
    for xmlid, story in STORY.items():
        repair = env.ref(f"omega_autointegrate.{xmlid}").with_company(company)
        if repair.fleet_ro_id:
            continue
        tell("demo story: %s", repair.name)
        repair._fleet_ensure_quotation()
        order = repair.sale_order_id
        for product_xmlid, quantity in story.get("services", ()):
            order.order_line = [Command.create({
                "product_id": env.ref(f"omega_autointegrate.{product_xmlid}").id,
                "product_uom_qty": quantity,
            })]
        line_of = _line_finder(env, repair)
        line_notes = {repair._fleet_line_ref(line_of(product)): [text]
                      for product, text in story.get("line_notes", {}).items()}
        repair._fleet_send(notes=[story["note"]] if story.get("note") else (), line_notes=line_notes)
        ro_id = repair.fleet_ro_id
        if story.get("documents"):
            repair._fleet_upload_documents([
                (env.ref(f"omega_autointegrate.{attachment}"), kind, line_of(product), False)
                for attachment, kind, product in story["documents"]])
        if story.get("request_documents"):
            admin.request_documents(ro_id, [
                {"kind": kind, "line_ref": line_of(product).fleet_line_ref if product else None, "text": text}
                for kind, product, text in story["request_documents"]], author=story.get("by", ENTERPRISE))
        for product, text, ask in story.get("fleet_notes", ()):
            admin.fleet_note(ro_id, text=text, line_ref=line_of(product).fleet_line_ref if product else None,
                             author=story.get("by", ENTERPRISE), request_info=ask)
        decision = story.get("decide")
        if decision:
            if "deny_all" in decision:
                lines = {line.fleet_line_ref: {"status": "denied", "reason": decision["deny_all"]}
                         for line in repair._fleet_lines()}
                admin.decide(ro_id, lines=lines, decided_by=story["by"])
            elif "all" in decision:
                admin.decide(ro_id, all=decision["all"], decided_by=story["by"])
            else:
                admin.decide(ro_id, decided_by=story["by"], lines={
                    line_of(product).fleet_line_ref: spec for product, spec in decision["lines"].items()})
        for file_name, kind, description in story.get("fleet_documents", ()):
            with file_open(f"omega_autointegrate/demo/files/{file_name}", "rb") as file:
                content = file.read()
            admin.fleet_document(ro_id, file_name=file_name, content_type="application/pdf", kind=kind,
                                 line_ref=None, description=description,
                                 content_base64=base64.b64encode(content).decode())
        repair._fleet_refresh()
        if story.get("fleet_documents"):
            env["autointegrate.document"]._cron_fetch_documents()
        if story.get("supplement"):
            for product_xmlid, quantity in story["supplement"]:
                order.order_line = [Command.create({
                    "product_id": env.ref(f"omega_autointegrate.{product_xmlid}").id,
                    "product_uom_qty": quantity,
                })]
            repair._fleet_send()
            admin.decide(ro_id, all="approved", decided_by=story["by"])
            repair._fleet_refresh()

        # the work on approved jobs: confirmed, started (the fleet's approval allows it), done
        steps = ("confirm", "start", "done")
        work = steps[:steps.index(story["work"]) + 1] if story.get("work") else ()
        if "confirm" in work:
            repair.action_validate()
        if "start" in work:
            repair.action_repair_start()
        if "done" in work:
            repair.action_repair_end()

        then = story.get("then")
        if then == "invoice":
            env["autointegrate.repair.invoice.wizard"].with_context(
                active_model="repair.order", active_ids=repair.ids).create({}).action_confirm()
        elif then == "cancel":
            repair.action_repair_cancel()
        elif then == "change":
            # the glass needed more work than planned: the job no longer matches the approval
            line_of("product_install_labor").product_uom_qty = 1.5

        # a history for Fleet Approvals Analysis, the authorization history and the approval clock (the fleet's
        # dates: only the addon writes them)
        submitted = now - timedelta(days=story["days_ago"])
        dates = {"fleet_submitted_at": submitted}
        if repair.fleet_decided_at and "hours" in story:
            dates["fleet_decided_at"] = submitted + timedelta(hours=story["hours"])
        if repair.fleet_waiting_since:
            dates["fleet_waiting_since"] = submitted
        repair._fleet_write_state(dates)
        _backdate_history(repair, submitted, dates.get("fleet_decided_at"))
        env.cr.commit()  # each job its own transaction: the fleet already holds it
    # the jobs waiting longer than their fleet's agreed response time
    env["repair.order"]._cron_fleet_escalate()
    env.cr.commit()
    tell("demo story: done")


def _backdate_history(repair, submitted, decided):
    """The authorization history at the story's dates: each revision an hour after the one before,
    a line kept unchanged with the date of its decision."""
    decided_at = {}  # line_ref -> when the fleet decided it
    for revision in repair.sudo().fleet_authorization_ids.sorted("revision"):
        offset = timedelta(hours=revision.revision - 1)
        when = (decided or submitted) + offset
        revision.write({"submitted_at": submitted + offset, "decided_at": revision.decided_at and when})
        for line in revision.line_ids.filtered("decided_at"):
            line.decided_at = decided_at.get(line.line_ref, when) if line.change == "unchanged" else when
            decided_at[line.line_ref] = line.decided_at


if __name__ == "__main__":
    main(globals()["env"])
