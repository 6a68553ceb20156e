from odoo import _, models
from odoo.exceptions import UserError

from ..const import ONLINE_PAYMENT_CONTEXT


class SaleAdvancePaymentInv(models.TransientModel):
    _inherit = "sale.advance.payment.inv"

    def _create_invoices(self, sale_orders):
        # An AutoIntegrate job's down payment is not approved work: the fleet
        # pays approved work only, once, with the job's invoice. It is refused
        # here, before the wizard adds its down payment lines to the quotation
        # (``_prepare_invoice`` cannot tell a down payment from an invoice).
        # The online-payment flow makes down payments through this wizard too
        # and must not raise: there the invoice is made and the posting gate
        # leaves it in draft with a note.
        if self.advance_payment_method != "delivered" and not self.env.context.get(ONLINE_PAYMENT_CONTEXT):
            for order in sale_orders:
                job = order._fleet_job()
                if job:
                    raise UserError(_(
                        "%(order)s is the quotation of AutoIntegrate job %(job)s: the fleet pays approved work "
                        "only, so it takes no down payment. Invoice the job once the fleet approved it.",
                        order=order.name, job=job.name))
        return super()._create_invoices(sale_orders)
