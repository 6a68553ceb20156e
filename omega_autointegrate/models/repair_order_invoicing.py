from odoo import _, models
from odoo.exceptions import UserError
from odoo.tools import float_compare

from ..const import APPROVED_STATUSES, INVOICEABLE_LINE_STATUSES


class RepairOrder(models.Model):
    _inherit = "repair.order"

    def _fleet_invoice_refusal(self):
        """:return: why this job's work cannot be invoiced now, or ``False``
        (always ``False`` for jobs that are not AutoIntegrate's)."""
        self.ensure_one()
        if not self.is_autointegrate:
            return False
        if not self.fleet_ro_id:
            return _("%(job)s has not been sent to the fleet: send it and wait for the fleet's approval before "
                     "invoicing it.", job=self.name)
        if self.fleet_status == "completed":
            return _("%(job)s was invoiced to the fleet already.", job=self.name)
        if self.fleet_status not in APPROVED_STATUSES:
            return _("The fleet has not approved %(job)s (fleet status: %(status)s): it cannot be invoiced.",
                     job=self.name, status=self._fleet_status_label())
        if self.fleet_changed:
            return _("%(job)s changed since the fleet approved it: send it to the fleet again and wait for its "
                     "approval before invoicing it.", job=self.name)
        if self.fleet_needs_resubmit:
            return _("The fleet denied lines of %(job)s: fix them, or send the job again as it is, before "
                     "invoicing it.", job=self.name)
        return False

    def _fleet_invoiceable_sale_lines(self):
        """:return: the quotation lines of this AutoIntegrate job the fleet
        approved (fully or adjusted), with something approved."""
        self.ensure_one()
        return self.sale_order_id.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
            and line.fleet_status in INVOICEABLE_LINE_STATUSES
            and float_compare(line.fleet_approved_qty, 0.0, precision_rounding=line.product_uom.rounding or 0.001) > 0
        )

    def _fleet_check_can_invoice(self):
        """Refuse, before anything is done, a job that the Invoice action
        cannot invoice.

        :raise UserError: naming the job
        """
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(_("%(job)s is cancelled: it cannot be invoiced.", job=self.name))
        if not self.sale_order_id:
            raise UserError(_("%(job)s has no quotation: create it (Create Quotation) before invoicing the job.",
                              job=self.name))
        refusal = self.sudo()._fleet_invoice_refusal()
        if refusal:
            raise UserError(refusal)
        order = self.sale_order_id
        if order.state in ("draft", "sent"):
            # nothing is invoiceable before the quotation is confirmed: look at its lines
            if self.is_autointegrate:
                has_work = bool(self._fleet_invoiceable_sale_lines())
            else:
                has_work = any(not line.display_type and line.product_uom_qty for line in order.order_line)
        else:
            drafts = order.invoice_ids.filtered(lambda move: move.state == "draft" and move.move_type == "out_invoice")
            has_work = bool(drafts or order._get_invoiceable_lines().filtered(lambda line: not line.display_type))
        if not has_work:
            raise UserError(_("%(job)s has nothing left to invoice.", job=self.name))

    def _fleet_invoice_job(self):
        """Invoice this job: confirm its quotation, create the invoice of what
        is left to invoice, post it with the job's draft invoices. Posting an
        AutoIntegrate job's invoice sends it to the fleet
        (:meth:`account.move._post`).

        :return: the posted invoices
        """
        self.ensure_one()
        self._fleet_check_can_invoice()
        order = self.sale_order_id
        if order.state in ("draft", "sent"):
            order.action_confirm()
        Move = self.env["account.move"]
        invoices = order.invoice_ids.filtered(lambda move: move.state == "draft" and move.move_type == "out_invoice")
        if order._get_invoiceable_lines().filtered(lambda line: not line.display_type):
            # created in sudo by sale (salespeople may create them); posted as the user
            invoices |= Move.browse(order._create_invoices(grouped=True).ids)
        invoices = Move.browse(invoices.ids)
        invoices.action_post()
        return invoices
