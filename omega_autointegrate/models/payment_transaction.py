from odoo import models

from ..const import ONLINE_PAYMENT_CONTEXT


class PaymentTransaction(models.Model):
    """How the gate knows it runs inside the online-payment flow.

    ``sale`` invoices the paid orders in ``_invoice_sale_orders`` and
    ``account_payment`` posts them in ``_post_process``. Both run under a
    context key, seen by ``account.move._post`` (defer instead of raising)
    and by the down payment wizard (no early refusal): raising there would
    break the processing of a payment the customer made.
    """

    _inherit = "payment.transaction"

    def _post_process(self):
        return super(PaymentTransaction, self.with_context(**{ONLINE_PAYMENT_CONTEXT: True}))._post_process()

    def _invoice_sale_orders(self):
        return super(PaymentTransaction, self.with_context(**{ONLINE_PAYMENT_CONTEXT: True}))._invoice_sale_orders()
