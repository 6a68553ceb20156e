from odoo import _, api, fields, models
from odoo.tools import float_compare, float_is_zero, float_round

from ..const import FLEET_LINE_STATUSES, INVOICEABLE_LINE_STATUSES
from ..lib.autointegrate import formatting


class SaleOrderLine(models.Model):
    _name = "sale.order.line"
    _inherit = ["sale.order.line", "autointegrate.fleet.state.mixin"]
    # the fleet's decision on the line, and the ref the fleet knows it by
    _fleet_state_fields = ("fleet_line_ref", "fleet_status", "fleet_approved_qty", "fleet_approved_amount",
                           "fleet_reason", "fleet_declined")

    fleet_line_ref = fields.Char(copy=False, readonly=True)
    fleet_status = fields.Selection(FLEET_LINE_STATUSES, copy=False, readonly=True)
    fleet_approved_qty = fields.Float(string="Approved Qty", digits="Product Unit of Measure", copy=False,
                                      readonly=True)
    fleet_approved_amount = fields.Monetary(string="Approved Amount", copy=False, readonly=True)
    fleet_reason = fields.Char(copy=False, readonly=True)
    fleet_declined = fields.Boolean(
        string="Declined by the Fleet", compute="_compute_fleet_declined", store=True, copy=False,
        help="The fleet denied this line and the shop accepted its decision: the line stays on the quotation at "
             "quantity 0, outside the RO and the invoice.",
    )
    fleet_note_count = fields.Integer(compute="_compute_fleet_note_count")

    @api.depends("product_uom_qty")
    def _compute_fleet_declined(self):
        for line in self:
            # set by accepting the fleet's denial (_fleet_accept); a quantity given again puts the line back in the RO
            line.fleet_declined = line.fleet_declined and float_is_zero(
                line.product_uom_qty, precision_rounding=line.product_uom.rounding or 0.001)

    @api.depends("fleet_line_ref")
    def _compute_fleet_note_count(self):
        counts = {}
        if self.ids:
            # sudo: a count, shown to repair users without fleet rights too (the notes stay unreadable)
            groups = self.env["autointegrate.note"].sudo()._read_group(
                [("sale_line_id", "in", self.ids)], ["sale_line_id"], ["__count"]
            )
            counts = {line.id: count for line, count in groups}
        for line in self:
            line.fleet_note_count = counts.get(line.id, 0)

    def _fleet_repair(self):
        """:return: the repair order whose quotation holds this line."""
        self.ensure_one()
        return self.order_id.sudo().repair_order_ids[:1].sudo(False)

    def action_fleet_communication(self):
        """FLEET COMMUNICATION from a line's own menu: that line's notes only."""
        self.ensure_one()
        return self._fleet_repair()._fleet_open_communication(line=self)

    def _fleet_description(self):
        """:return: the line's description as the fleet reads it: without the
        “[CODE] ” Odoo puts before a product's name (the code travels as the
        line's service code)."""
        self.ensure_one()
        name = (self.name or self.product_id.display_name or "").strip()
        prefix = f"[{self.product_id.default_code}]" if self.product_id.default_code else None
        if prefix and name.startswith(prefix) and name[len(prefix):].strip():
            name = name[len(prefix):].strip()
        return name[:1000]

    def _fleet_above_approval(self):
        """:return: whether this line asks for more than the fleet approved, in quantity or amount."""
        self.ensure_one()
        rounding = self.product_uom.rounding or 0.001
        return (float_compare(self.product_uom_qty, self.fleet_approved_qty, precision_rounding=rounding) > 0
                or self.currency_id.compare_amounts(self.price_subtotal, self.fleet_approved_amount) > 0)

    def _fleet_accept(self):
        """Take the fleet's decision on this line onto the quotation: a denied
        line leaves the RO (it stays, at quantity 0, declined by the fleet), an
        adjusted one takes the quantity and amount the fleet approved. A part
        of the repair changes through its stock move, as Odoo keeps a repair's
        parts and its quotation in step (``stock.move._action_cancel`` and
        ``write`` set the quantity of their quotation line).

        :return: what was done, for the job's chatter
        """
        self.ensure_one()
        moves = self.move_ids.filtered(lambda move: move.repair_id and move.state not in ("done", "cancel"))
        if self.fleet_status == "denied":
            moves._action_cancel()
            self.write({"product_uom_qty": 0.0})
            self._fleet_write_state({"fleet_declined": True})
            return _("declined by the fleet: left on the quotation at quantity 0")
        capped = self._fleet_capped_invoice_values(self.product_uom_qty, self.price_unit, self.discount or 0.0)
        if len(moves) == 1:
            moves.product_uom_qty = capped["quantity"]
        self.write({"product_uom_qty": capped["quantity"], "price_unit": capped["price_unit"],
                    "discount": capped["discount"]})
        return _("quantity %(quantity)s, amount %(amount)s, as the fleet approved",
                 quantity=formatting.format_quantity(self.product_uom_qty),
                 amount=formatting.format_amount(self.price_subtotal))

    def _fleet_is_approved_work(self):
        """:return: whether the fleet approved this line's work (fully or
        adjusted) with something approved: what an AutoIntegrate job invoices."""
        self.ensure_one()
        return (
            not self.display_type and not self.is_downpayment and self.fleet_status in INVOICEABLE_LINE_STATUSES
            and float_compare(self.fleet_approved_qty, 0.0, precision_rounding=self.product_uom.rounding or 0.001) > 0
        )

    def _prepare_invoice_line(self, **optional_values):
        """A line the fleet approved of an approved AutoIntegrate job is
        invoiced at most at its approved quantity and amount (an adjusted
        line at what the fleet allowed)."""
        values = super()._prepare_invoice_line(**optional_values)
        if not self._fleet_is_approved_work():
            return values
        job = self.order_id._fleet_job()
        if not job or job._fleet_invoice_refusal():
            return values
        values.update(self._fleet_capped_invoice_values(values.get("quantity") or 0.0, values.get("price_unit") or 0.0,
                                                        values.get("discount") or 0.0))
        return values

    def _fleet_capped_invoice_values(self, quantity, price_unit, discount):
        """:return: ``quantity``, ``price_unit`` and ``discount`` of the
        invoice line so that neither its quantity nor its amount exceeds what
        the fleet approved. When the approved amount cannot be reached exactly
        with the price's precision, the unit price is rounded down (the
        invoice is then at most a cent under the approved amount)."""
        self.ensure_one()
        rounding = self.product_uom.rounding or 0.001
        if float_compare(quantity, self.fleet_approved_qty, precision_rounding=rounding) > 0:
            quantity = self.fleet_approved_qty
        currency = self.currency_id
        amount = currency.round(price_unit * (1 - discount / 100.0) * quantity)
        if currency.compare_amounts(amount, self.fleet_approved_amount) > 0:
            digits = self.env["decimal.precision"].precision_get("Product Price")
            price_unit = float_round(self.fleet_approved_amount / quantity, precision_digits=digits,
                                     rounding_method="DOWN") if quantity else 0.0
            discount = 0.0
        return {"quantity": quantity, "price_unit": price_unit, "discount": discount}
