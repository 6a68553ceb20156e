import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class AutoIntegrateRepairInvoiceWizard(models.TransientModel):
    """Invoice: “Invoice N jobs?” YES / NO, from the repair list or form."""

    _name = "autointegrate.repair.invoice.wizard"
    _description = "Invoice repair orders"

    repair_ids = fields.Many2many("repair.order", string="Repair Orders", readonly=True)
    message = fields.Char(compute="_compute_message")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "repair_ids" in fields_list and self.env.context.get("active_model") == "repair.order":
            ids = self.env.context.get("active_ids") or [self.env.context.get("active_id")]
            values["repair_ids"] = [fields.Command.set([i for i in ids if i])]
        return values

    @api.depends("repair_ids")
    def _compute_message(self):
        for wizard in self:
            count = len(wizard.repair_ids)
            wizard.message = _("Invoice 1 job?") if count == 1 else _("Invoice %(count)s jobs?", count=count)

    def action_confirm(self):
        """YES: invoice each job, one at a time, and open the invoices.

        Every job is checked first, so a job that cannot be invoiced (no
        quotation, not approved by its fleet, changed since approval, nothing
        left to invoice) stops the action before anything is posted. Then
        each job is invoiced in its own savepoint, so a job whose posting is
        refused leaves the others invoiced. The fleet invoices are sent once
        the postings are committed, one after the other (``account.move``).
        """
        self.ensure_one()
        repairs = self.repair_ids
        if not repairs:
            raise UserError(_("Select the jobs to invoice."))
        repairs.check_access("read")  # from the database: another company's jobs are not invoiced
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(_("Invoicing jobs posts their invoices: you need the Invoicing (Billing) rights."))
        try:
            for repair in repairs:
                repair._fleet_check_can_invoice()
        except UserError as error:
            return self._refused(str(error.args[0]))
        invoices = self.env["account.move"]
        failures = []
        for repair in repairs:
            try:
                with self.env.cr.savepoint():
                    invoices |= repair._fleet_invoice_job()
            except UserError as error:
                _logger.info("Invoicing %s failed: %s", repair.name, error)
                failures.append((repair, error))
        refused = "\n\n".join(str(error.args[0]) for _repair, error in failures)
        if failures and not invoices:
            return self._refused(refused)
        action = self._action_open_invoices(invoices)
        if failures:
            return self._told("warning", _("Some jobs were not invoiced"), refused, action)
        return action

    def _refused(self, message):
        """Nothing was invoiced: the dialog closes and the reason stays on screen until dismissed.

        Nothing is left to roll back: a job is refused before anything is
        done, and each job's invoicing is rolled back to its savepoint.
        """
        return self._told("danger", _("Nothing was invoiced"), message, {"type": "ir.actions.act_window_close"})

    @staticmethod
    def _told(kind, title, message, then):
        """:return: a notification that stays until dismissed, then the action ``then``"""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "sticky": True, "title": title, "message": message, "next": then},
        }

    def _action_open_invoices(self, invoices):
        action = self.env["ir.actions.actions"]._for_xml_id("account.action_move_out_invoice_type")
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(invoices) == 1:
            action.update(views=[(self.env.ref("account.view_move_form").id, "form")], res_id=invoices.id,
                          view_mode="form")
        else:
            action["domain"] = [("id", "in", invoices.ids)]
        return action
