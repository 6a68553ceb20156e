from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..const import CLOSED_STATUSES, FLEET_STATUSES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    fleet_status = fields.Selection(FLEET_STATUSES, compute="_compute_fleet_status")

    def _compute_fleet_status(self):
        for order in self:
            order.fleet_status = order._fleet_job().fleet_status or False

    def _fleet_job(self):
        """:return: the AutoIntegrate job (sudo) whose quotation this is, or an empty recordset."""
        self.ensure_one()
        return self.sudo().repair_order_ids.filtered("is_autointegrate")[:1]

    @api.ondelete(at_uninstall=False)
    def _unlink_except_fleet_job(self):
        """The quotation of a job whose RO is open at the fleet holds the RO's
        lines and amounts and is what the job is invoiced from: deleted
        (cancelled first), the job would lose them while the fleet keeps the RO."""
        jobs = self.sudo().repair_order_ids.filtered(
            lambda repair: repair.fleet_ro_id and repair.fleet_status not in CLOSED_STATUSES)
        if jobs:
            raise UserError(_(
                "%(orders)s cannot be deleted: %(jobs)s, whose repair order is still open at the fleet, is worked "
                "and invoiced from it. Cancel the job instead (Cancel also cancels its RO at the fleet).",
                orders=", ".join(jobs.sale_order_id.mapped("name")), jobs=", ".join(jobs.mapped("name"))))

    def _get_invoice_grouping_keys(self):
        # one invoice per AutoIntegrate job: the fleet takes one invoice per RO
        return super()._get_invoice_grouping_keys() + ["fleet_repair_id"]

    def _prepare_invoice(self):
        """Stamp the job and its authorization number on the invoice.

        Nothing is refused here: this method also serves the online-payment
        flow, which must not raise, and a draft of unapproved work is harmless
        because ``account.move._post`` refuses to post it. The Invoice action
        refuses unapproved jobs before it creates anything, and the down
        payment wizard refuses AutoIntegrate jobs before it adds its lines.
        """
        values = super()._prepare_invoice()
        job = self._fleet_job()
        values["fleet_repair_id"] = job.id or False
        if job:
            values["fleet_authorization_number"] = job.fleet_authorization_number or False
        return values

    def _get_invoiceable_lines(self, final=False):
        """An approved AutoIntegrate job invoices only the work the fleet
        approved: approved and adjusted lines (at their approved quantity and
        amount, see ``sale.order.line._prepare_invoice_line``); denied, pending
        and unsent lines and down payments are left out. A job that cannot be
        invoiced now keeps Odoo's lines: posting refuses them, naming each."""
        lines = super()._get_invoiceable_lines(final)
        if len(self) != 1:
            return lines
        job = self._fleet_job()
        if not job or job._fleet_invoice_refusal():
            return lines
        kept = self.env["sale.order.line"]
        section = None
        for line in lines:
            if line.display_type == "line_section":
                section = line
                continue
            if not line.display_type and not line._fleet_is_approved_work():
                continue
            if section:
                kept |= section
                section = None
            kept |= line
        return kept
