from odoo import api, models


class FleetNormalizeMixin(models.AbstractModel):
    """Cleans fleet values (ids, VINs) the same way on create and on write."""

    _name = "autointegrate.normalize.mixin"
    _description = "AutoIntegrate value normalisation"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._fleet_normalize(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._fleet_normalize(vals)
        return super().write(vals)

    @api.model
    def _fleet_normalize(self, vals):
        """Clean ``vals`` in place before they are stored."""
