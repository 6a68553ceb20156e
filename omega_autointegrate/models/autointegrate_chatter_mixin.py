from functools import partial

from odoo import models
from odoo.tools.misc import clean_context

#: precommit data: {(model, id): [said, ...]}, what was said on a record and is not in its chatter yet.
#: The addon's own key of the cursor's precommit queue, as ``odoo.tools.misc.Callbacks`` documents its
#: ``data`` ("{module}.{feature}" keys, cleared with the queue at commit and rollback): never a key of mail's.
SAID = "omega_autointegrate.said"


class AutoIntegrateChatterMixin(models.AbstractModel):
    """Says something in a record's chatter in the entry that tracks its
    changes of the transaction, as mail's tracking posts it (one entry: what
    happened and what it changed), or in a message of its own when none of
    its changes is tracked (a record created in the same transaction, say).

    The models that use it give it mail's tracking hooks: their
    ``_track_get_default_log_message`` returns :meth:`_fleet_said_body`, and
    their ``_track_subtype`` :meth:`_fleet_said_subtype` when they say
    things under a subtype of their own.
    """

    _name = "autointegrate.chatter.mixin"
    _description = "AutoIntegrate chatter"

    def _fleet_say(self, body, subtype_xmlid=False):
        """Say ``body`` on this record, in its tracking entry of this
        transaction or else in a message posted when the transaction ends.

        Call it after the writes it goes with: mail's tracking of them is
        queued by then, and runs before the message is posted instead.

        :param subtype_xmlid: the entry's subtype, which decides who is
            notified; by default the tracking's own, or a note
        """
        self.ensure_one()
        said = {"body": body, "subtype": subtype_xmlid}
        self.env.cr.precommit.data.setdefault(SAID, {}).setdefault((self._name, self.id), []).append(said)
        # sudo and a clean context, as mail's tracking posts: the fleet's bookkeeping, not the user's
        post = self.with_env(self.env(context=clean_context(self.env.context), su=True))._fleet_post_said
        self.env.cr.precommit.add(partial(post, said))

    def _fleet_said(self):
        """:return: the first thing said on this record that is not in its chatter yet, or ``None``"""
        said = self.env.cr.precommit.data.get(SAID, {}).get((self._name, self.id))
        return said[0] if said else None

    def _fleet_said_subtype(self):
        """:return: the subtype of the first thing said on this record, for its tracking entry, or ``False``"""
        said = self._fleet_said()
        if not said or not said["subtype"]:
            return False
        return self.env["mail.message.subtype"].browse(self.env["ir.model.data"]._xmlid_to_res_id(said["subtype"]))

    def _fleet_said_body(self):
        """:return: the first thing said on this record, taken by its tracking entry, or ``""``"""
        said = self._fleet_said()
        if not said:
            return ""
        self.env.cr.precommit.data[SAID][(self._name, self.id)].remove(said)
        return said["body"]

    def _fleet_post_said(self, said):
        """Post ``said`` on this record unless its tracking entry took it."""
        pending = self.env.cr.precommit.data.get(SAID, {}).get((self._name, self.id), [])
        if not any(item is said for item in pending) or not self.exists():
            return
        pending.remove(said)
        self.message_post(body=said["body"], subtype_xmlid=said["subtype"] or "mail.mt_note")
        # after the transaction's flush: what this created is written before the commit
        self.env.flush_all()
