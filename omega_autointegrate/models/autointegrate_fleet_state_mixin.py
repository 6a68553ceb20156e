from odoo import _, api, models
from odoo.exceptions import UserError


class AutoIntegrateFleetStateMixin(models.AbstractModel):
    """Fields that only the fleet changes: its RO as it last answered, its
    decision on each line, what the shop last sent it. The work gate and the
    invoicing gate trust them, so no user may set them: a create or write of
    them (``write``, ``web_save``, a job's embedded lines, ``create``,
    ``copy`` with defaults, an import) that would change one is refused,
    naming the fields. The addon stores what the fleet answered (its answers
    to our calls, the webhooks, the polls) with :meth:`_fleet_write_state`.

    ``readonly=True`` only tells the web client, and a context key is no
    boundary (a JSON-RPC caller sets the context it likes); ``env.su``
    cannot be set over RPC, so a write in sudo is the addon's own.

    A model lists its fields in ``_fleet_state_fields``.
    """

    _name = "autointegrate.fleet.state.mixin"
    _description = "AutoIntegrate fields only the fleet changes"

    #: the fields of the model that only the fleet's answers change
    _fleet_state_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            self._fleet_check_state_values(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            self._fleet_check_state_values([vals], self)
        return super().write(vals)

    def _fleet_write_state(self, vals):
        """Store on ``self`` what the fleet said: the one way the addon writes
        the fields of ``_fleet_state_fields`` (in sudo; the caller checked
        that the user may talk to the fleet about these records, when a user
        is behind it). Mail's tracking and the records' ``write_uid`` still
        name the user.
        """
        return self.sudo().write(vals)

    @api.model
    def _fleet_check_state_values(self, vals_list, records=None):
        """Refuse values of ``_fleet_state_fields`` that would change them:
        on ``records`` (a write), or on new records (a create: anything but
        their default). An unchanged value, as a form may send back, passes.

        :raise UserError: naming the fields
        """
        refused = set()
        for vals in vals_list:
            for name in self._fleet_state_fields:
                if name not in vals:
                    continue
                field = self._fields[name]
                if records is None:
                    targets, current = [self], [field.default(self) if field.default else False]
                else:
                    targets = records.sudo()  # the current value, whatever the field's groups
                    current = [record[name] for record in targets]
                if any(field.convert_to_cache(vals[name], target) != field.convert_to_cache(value, target)
                       for target, value in zip(targets, current, strict=True)):
                    refused.add(name)
        if refused:
            labels = sorted(self._fields[name]._description_string(self.env) for name in refused)
            raise UserError(_(
                "Only the fleet changes %(fields)s of a %(model)s: the fleet's answers set them. Leave them out "
                "of what you save or import; to ask the fleet, use Send to Fleet.",
                fields=", ".join(f"“{label}”" for label in labels),
                model=self.env["ir.model"].sudo()._get(self._name).name,
            ))
