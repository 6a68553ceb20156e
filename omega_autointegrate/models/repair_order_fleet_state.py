"""Storing the fleet's RO states (contract 4.4) on jobs, one or a page at once.

The webhook, the changes-feed poll, the nightly reconciliation and every
call that answers with an RO state come here. A page of the changes feed
(100 ROs) is applied with a fixed number of queries, whatever its size:
one lock on all its jobs, one read of their lines and of their known note
ids, grouped writes, one insert of the new notes and one of the chatter
messages (tracking messages included). Per job it is what it always was:
a state not newer than the last applied is ignored, the fleet's notes are
stored once, one decision message, one follow-up activity.
"""

import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import Command, _, api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

from ..lib.autointegrate import formatting

_logger = logging.getLogger(__name__)

#: precommit key under which the tracking messages of a batch are collected
TRACKING_LOGS = "omega_autointegrate.tracking_logs"
#: precommit key: {job id: its decision message of this transaction}, which takes the job's tracking
DECISION_MESSAGES = "omega_autointegrate.decision_messages"
FLEET_SUBTYPES = ("omega_autointegrate.mt_fleet_note", "omega_autointegrate.mt_fleet_decision")
LINE_FLEET_FIELDS = ("fleet_status", "fleet_approved_qty", "fleet_approved_amount", "fleet_reason")


class RepairOrder(models.Model):
    _inherit = "repair.order"

    # ------------------------------------------------------------- apply
    def _fleet_apply_state(self, state):
        """Store an RO state of the fleet (contract 4.4) on the job, its lines
        and its notes. States not newer than the last applied are ignored.

        :return: whether the state was applied
        """
        self.ensure_one()
        return bool(self._fleet_apply_states({self.id: state}))

    def _fleet_apply_states(self, states, locked=None):
        """Store RO states of the fleet on the jobs ``self``, all at once.

        :param states: ``{job id: RO state}``, one state per job of ``self``
        :param locked: what :meth:`_fleet_lock_rows` returned, when the caller
            locked the jobs already
        :return: the jobs whose state was applied
        """
        if not self:
            return self
        if locked is None:
            locked = self._fleet_lock_rows(SQL("id = ANY(%s)", list(self.ids)))
        todo = []
        for repair in self:
            state = states[repair.id]
            if repair.fleet_ro_id and state.get("ro_id") != repair.fleet_ro_id:
                _logger.warning("Ignoring RO state %s for %s, which is bound to %s",
                                state.get("ro_id"), repair.name, repair.fleet_ro_id)
                continue
            if repair.fleet_ro_id and (state.get("sequence") or 0) <= repair.fleet_sequence:
                continue
            todo.append((repair, state))
        if not todo:
            return self.browse()
        repairs = self.browse([repair.id for repair, _state in todo])
        lines_of = repairs._fleet_lines_by_ref()
        known_notes = repairs._fleet_known_note_ids(any(state.get("notes") for _repair, state in todo))

        # the tracking of every job prepared at once; each job's write then skips it (and the
        # follower subscription, which none of these fields triggers)
        if not self.env.context.get("tracking_disable"):
            repairs._track_prepare(repairs._fields)
        untracked = repairs.with_context(tracking_disable=True).env
        line_writes = defaultdict(list)  # values -> lines
        note_values = []
        decisions = []  # (job, [(line, line state)])
        followups = []  # (job, info requested)
        for repair, state in todo:
            lines = lines_of.get(repair.id, {})
            newly_denied = False
            decided = []
            seen = set()
            for line_state in state.get("lines") or []:
                line = lines.get(line_state.get("line_ref"))
                if not line:
                    continue
                seen.add(line.id)
                status = line_state.get("status")
                newly_denied |= status == "denied" and line.fleet_status != "denied"
                if status != "pending" and (status != line.fleet_status
                                            or (line_state.get("reason") or False) != line.fleet_reason):
                    decided.append((line, line_state))
                values = (
                    status,
                    formatting.safe_decimal(line_state.get("approved_quantity")) or 0.0,
                    formatting.safe_decimal(line_state.get("approved_amount")) or 0.0,
                    line_state.get("reason") or False,
                )
                if values != tuple(line[name] for name in LINE_FLEET_FIELDS):
                    line_writes[values].append(line.id)
            for line in lines.values():
                if line.fleet_status and line.id not in seen:  # dropped from the fleet's RO
                    line_writes[(False, 0.0, 0.0, False)].append(line.id)
            sequence = state.get("sequence") or 0
            vals = {
                "fleet_ro_id": state["ro_id"],
                "fleet_revision": state.get("revision") or 0,
                "fleet_status": state.get("status") or "pending",
                "fleet_authorization_number": state.get("authorization_number") or False,
                "fleet_decided_by": state.get("decided_by") or False,
                "fleet_decided_at": _parse_timestamp(state.get("decided_at")),
                "fleet_sequence": sequence,
                "fleet_approved_total": formatting.safe_decimal(state.get("approved_total")) or 0.0,
            }
            if newly_denied:
                vals["fleet_denial_pending"] = True
            newly_asked = vals["fleet_status"] == "info_requested" and repair.fleet_status != "info_requested"
            repair.with_env(untracked).write(vals)
            note_values += repair._fleet_new_note_values(state.get("notes") or [], lines, known_notes[repair.id])
            if decided:
                decisions.append((repair, decided))
            if newly_denied or newly_asked:
                followups.append((repair, newly_asked))

        self._fleet_write_lines(line_writes)
        notes = self.env["autointegrate.note"].sudo().create(note_values)
        # the chatter, in the order each job always had: the fleet's notes, then its decision
        posts = defaultdict(list)
        for note in notes.filtered(lambda n: n.author_type == "fleet"):
            posts[note.repair_id.id].append((self._fleet_note_body(note), "omega_autointegrate.mt_fleet_note"))
        labels = dict(self.env["sale.order.line"]._fields["fleet_status"]._description_selection(self.env))
        for repair, decided in decisions:
            posts[repair.id].append((repair._fleet_decision_body(decided, labels),
                                     "omega_autointegrate.mt_fleet_decision"))
        repairs._fleet_message_post_batch(posts, locked)
        repairs._fleet_schedule_followups(followups)
        return repairs

    @api.model
    def _fleet_lock_rows(self, where):
        """Lock the jobs matching ``where`` for applying fleet states, in one statement.

        Webhook, poll and reconciliation may race on a job: the first to lock
        its row applies a sequence, the others then see it as already applied.
        Rows are locked in id order, so two pages never deadlock. The same
        statement reads what the chatter needs of each job: its first message
        (the parent of new ones: threads are flat) and the fleet subtypes
        someone other than the current user follows on it (only then does
        mail's notification run).

        :param where: an ``SQL`` condition on ``repair_order``
        :return: ``{job id: (first message id or False, {followed subtype ids})}``
        """
        self.flush_model(["fleet_sequence", "fleet_ro_id", "fleet_status", "company_id"])
        self.env["mail.followers"].flush_model(["partner_id", "subtype_ids", "res_id", "res_model"])
        subtypes = [self.env["ir.model.data"]._xmlid_to_res_id(xmlid) for xmlid in FLEET_SUBTYPES]
        # raw: a lost race is a retried serialization failure, not an error to log
        self.env.cr.execute(SQL(
            """SELECT ro.id,
                      (SELECT MIN(msg.id) FROM mail_message msg
                        WHERE msg.model = %(model)s AND msg.res_id = ro.id
                          AND msg.message_type != 'user_notification'),
                      ARRAY(SELECT DISTINCT rel.mail_message_subtype_id
                              FROM mail_followers fol
                              JOIN mail_followers_mail_message_subtype_rel rel ON rel.mail_followers_id = fol.id
                              JOIN res_partner partner ON partner.id = fol.partner_id AND partner.active
                             WHERE fol.res_model = %(model)s AND fol.res_id = ro.id
                               AND fol.partner_id != %(author)s
                               AND rel.mail_message_subtype_id = ANY(%(subtypes)s))
                 FROM repair_order ro
                WHERE %(where)s
             ORDER BY ro.id
                  FOR NO KEY UPDATE OF ro""",
            model=self._name, where=where, subtypes=subtypes, author=self.env.user.partner_id.id,
        ), log_exceptions=False)
        rows = self.env.cr.fetchall()
        ids = [row[0] for row in rows]
        self.browse(ids).invalidate_recordset(["fleet_sequence", "fleet_ro_id", "fleet_status"])
        return {row[0]: (row[1] or False, set(row[2])) for row in rows}

    def _fleet_write_lines(self, line_writes):
        """Write the fleet's decision on quotation lines, all in one statement
        (the ORM splits updates in batches of 100 rows).

        :param line_writes: ``{(status, approved qty, approved amount, reason): [line id, ...]}``
        """
        rows = [SQL("(%s, %s::varchar, %s::numeric, %s::numeric, %s::varchar)",
                    line_id, status or None, qty, amount, reason or None)
                for (status, qty, amount, reason), line_ids in line_writes.items() for line_id in line_ids]
        if not rows:
            return
        lines = self.env["sale.order.line"].sudo().browse(
            [line_id for line_ids in line_writes.values() for line_id in line_ids])
        lines.flush_recordset([*LINE_FLEET_FIELDS, "write_uid", "write_date"])
        self.env.execute_query(SQL(
            """UPDATE sale_order_line line
                  SET fleet_status = v.status, fleet_approved_qty = v.qty, fleet_approved_amount = v.amount,
                      fleet_reason = v.reason, write_uid = %(uid)s, write_date = %(now)s
                 FROM (VALUES %(rows)s) AS v(id, status, qty, amount, reason)
                WHERE line.id = v.id""",
            rows=SQL(", ").join(rows), uid=self.env.uid, now=self.env.cr.now(),
        ))
        # the cache takes the new values, and what depends on them is recomputed as after a write
        cache = self.env.cache
        for values, line_ids in line_writes.items():
            records = lines.browse(line_ids)
            for fname, value in zip(LINE_FLEET_FIELDS, values, strict=True):
                field = lines._fields[fname]
                # validate=False: a monetary value is not rounded here, so its currency is not read
                cache.update(records, field, [field.convert_to_cache(value, records, validate=False)] * len(records))
            records.invalidate_recordset(["write_uid", "write_date"], flush=False)
        lines.modified(LINE_FLEET_FIELDS)

    def _fleet_store_line_refs(self, refs):
        """Keep on the quotation lines the refs they were sent to the fleet
        with, in one statement (sudo: the refs are the fleet's bookkeeping,
        not an edit of the quotation by the user, who was checked for access
        to the job before sending).

        :param refs: ``{sale line id: line_ref}``
        """
        if not refs:
            return
        lines = self.env["sale.order.line"].sudo().browse(list(refs))
        lines.flush_recordset(["fleet_line_ref", "write_uid", "write_date"])
        self.env.cr.execute(SQL(
            """UPDATE sale_order_line line SET fleet_line_ref = v.ref, write_uid = %(uid)s, write_date = %(now)s
                 FROM (VALUES %(rows)s) AS v(id, ref)
                WHERE line.id = v.id""",
            rows=SQL(", ").join(SQL("(%s, %s::varchar)", line_id, ref) for line_id, ref in refs.items()),
            uid=self.env.uid, now=self.env.cr.now(),
        ))
        field = lines._fields["fleet_line_ref"]
        for line in lines:
            self.env.cache.update(line, field, [refs[line.id]])
        lines.invalidate_recordset(["write_uid", "write_date"], flush=False)
        lines.modified(["fleet_line_ref"])  # the job's digest is computed again, as after a write

    def _fleet_lines_by_ref(self):
        """:return: ``{job id: {line_ref: quotation line}}`` of the lines sent to the fleet (one query)."""
        orders = self.sale_order_id
        if not orders:
            return {}
        lines = self.env["sale.order.line"].sudo().search_fetch(
            [("order_id", "in", orders.ids), ("fleet_line_ref", "!=", False)],
            ["order_id", "fleet_line_ref", "name", *LINE_FLEET_FIELDS])
        by_order = defaultdict(dict)
        for line in lines:
            by_order[line.order_id.id][line.fleet_line_ref] = line
        return {repair.id: by_order.get(repair.sale_order_id.id, {}) for repair in self}

    def _fleet_known_note_ids(self, needed=True):
        """:return: ``{job id: {fleet note ids stored}}`` (one query, none when not ``needed``)."""
        known = defaultdict(set)
        if needed:
            notes = self.env["autointegrate.note"].sudo().search_fetch(
                [("repair_id", "in", self.ids)], ["repair_id", "fleet_note_id"])
            for note in notes:
                known[note.repair_id.id].add(note.fleet_note_id)
        return known

    def _fleet_new_note_values(self, notes, lines, known):
        """:return: the values of the fleet's notes not stored yet (``known`` is updated)."""
        self.ensure_one()
        values = []
        for note in notes:
            note_id = note.get("note_id")
            if not note_id or note_id in known or not isinstance(note.get("text"), str):
                continue
            known.add(note_id)
            line_ref = note.get("line_ref") or False
            values.append({
                "repair_id": self.id,
                "fleet_note_id": note_id,
                "line_ref": line_ref,
                "sale_line_id": lines[line_ref].id if line_ref in lines else False,
                "author_type": "fleet" if note.get("author_type") == "fleet" else "shop",
                "author": note.get("author") or False,
                "text": note["text"],
                "created_at": _parse_timestamp(note.get("created_at")) or fields.Datetime.now(),
            })
        return values

    def _fleet_store_notes(self, notes):
        """Store the fleet's notes not stored yet; post the fleet's in the chatter.

        :return: the notes created
        """
        self.ensure_one()
        lines = self._fleet_lines_by_ref().get(self.id, {})
        known = self._fleet_known_note_ids()[self.id]
        created = self.env["autointegrate.note"].sudo().create(self._fleet_new_note_values(notes, lines, known))
        self._fleet_message_post_batch({self.id: [
            (self._fleet_note_body(note), "omega_autointegrate.mt_fleet_note")
            for note in created.filtered(lambda n: n.author_type == "fleet")
        ]})
        return created

    # ------------------------------------------------------------ chatter
    def _fleet_note_body(self, note):
        """A note of the fleet, for the chatter."""
        where = Markup(" <i>(%s)</i>") % note.line_label if note.line_ref else ""
        return Markup("<b>%s</b>%s: %s") % (note.author or _("Fleet"), where, note.text)

    def _fleet_decision_body(self, decided, labels=None):
        """The fleet's decision on each line, for the chatter."""
        self.ensure_one()
        if labels is None:
            labels = dict(self.env["sale.order.line"]._fields["fleet_status"]._description_selection(self.env))
        items = Markup("").join(
            Markup("<li>%s: <b>%s</b>%s%s</li>") % (
                line.name.splitlines()[0],
                labels.get(line_state["status"], line_state["status"]),
                Markup(" (%s %s)") % (line_state.get("approved_quantity"), line_state.get("approved_amount"))
                if line_state["status"] == "adjusted" else "",
                Markup("<br/><i>%s</i>") % line_state["reason"] if line_state.get("reason") else "",
            )
            for line, line_state in decided
        )
        return Markup("%s<ul>%s</ul>") % (
            _("Fleet decision by %(who)s:", who=self.fleet_decided_by or _("the fleet")), items)

    def _fleet_message_post_batch(self, posts, locked=None):
        """``message_post`` of many messages on many jobs, created together.

        The values are those ``message_post`` gives a notification posted by
        the current user (author, parent, reply-to, alias domain, company);
        mail's notification runs only for the jobs someone else follows.

        :param posts: ``{job id: [(body, subtype xmlid), ...]}`` in posting order
        :param locked: what :meth:`_fleet_lock_rows` returned for these jobs
        :return: the messages
        """
        posts = {repair_id: items for repair_id, items in posts.items() if items}
        if not posts:
            return self.env["mail.message"]
        repairs = self.browse(list(posts))._fallback_lang()
        if locked is None or not set(posts) <= set(locked):
            locked = repairs._fleet_lock_rows(SQL("id = ANY(%s)", list(repairs.ids)))
        author_id, email_from = repairs._message_compute_author(None, None, raise_on_email=True)
        companies = repairs._mail_get_companies(default=self.env.company)
        # the alias domain and the document's reply-to serve the emails of a notification:
        # worked out for the jobs someone else follows; the others get what mail's
        # _message_log_batch gives a message nobody is notified of
        notified = repairs.filtered(lambda repair: locked[repair.id][1])
        alias_domains = notified.sudo()._mail_get_alias_domains(default_company=self.env.company) if notified else {}
        reply_to = notified._notify_get_reply_to(default=email_from) if notified else {}
        logged_reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        # threads are flat: a message's parent is the first message of its job; a job
        # without any has its first new message created first, as the parent of the others
        parents = {repair.id: locked[repair.id][0] for repair in repairs if locked[repair.id][0]}
        batches = [[], []]
        for repair in repairs:
            for index, (body, subtype_xmlid) in enumerate(posts[repair.id]):
                values = {
                    "email_add_signature": True,
                    "record_name": repair.sudo().display_name,
                    "author_id": author_id,
                    "author_guest_id": False,
                    "email_from": email_from,
                    "model": self._name,
                    "res_id": repair.id,
                    "body": escape(body),
                    "message_type": "notification",
                    "parent_id": parents.get(repair.id, False),
                    "subject": False,
                    "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id(subtype_xmlid),  # ormcached
                    "partner_ids": [],
                    "record_alias_domain_id": alias_domains[repair.id].id if repair.id in alias_domains else False,
                    "record_company_id": companies[repair.id].id,
                    "reply_to": reply_to.get(repair.id, logged_reply_to),
                    "attachment_ids": [],  # what _process_attachments_for_post gives a post without any
                }
                batches[repair.id in parents or index > 0].append((repair, values))
        messages = self.env["mail.message"]
        created = []
        for batch in batches:
            if not batch:
                continue
            for repair, values in batch:
                if not values["parent_id"] and repair.id in parents:
                    values["parent_id"] = parents[repair.id]
            batch_messages = self._message_create([values for _repair, values in batch])
            for (repair, _values), message in zip(batch, batch_messages, strict=True):
                parents.setdefault(repair.id, message.id)
            created += batch
            messages |= batch_messages
        decision_subtype = self.env["ir.model.data"]._xmlid_to_res_id("omega_autointegrate.mt_fleet_decision")
        decision_messages = self.env.cr.precommit.data.setdefault(DECISION_MESSAGES, {})
        for (repair, values), message in zip(created, messages, strict=True):
            if values["subtype_id"] == decision_subtype:
                decision_messages[repair.id] = (message.id, values["author_id"])
            repair._message_post_after_hook(message, values)
            if values["subtype_id"] in locked[repair.id][1]:
                repair._notify_thread(message, values)
        return messages

    def _fleet_schedule_followups(self, followups):
        """A denial or a question of the fleet becomes a to-do for the job's responsible.

        :param followups: ``[(job, info requested)]``
        """
        groups = defaultdict(list)
        for repair, info_requested in followups:
            groups[(bool(info_requested), repair.user_id.id or self.env.user.id)].append(repair.id)
        for (info_requested, user_id), repair_ids in groups.items():
            summary = (_("The fleet asks for information") if info_requested
                       else _("The fleet denied work: fix the job and send it again"))
            self.browse(repair_ids).activity_schedule("mail.mail_activity_data_todo", summary=summary,
                                                      user_id=user_id)

    # ----------------------------------------------------------- tracking
    def _message_track(self, fields_iter, initial_values_dict):
        """mail logs the tracking message of each job on its own: collect them
        and create them together (one insert for a page of jobs)."""
        data = self.env.cr.precommit.data
        outer = TRACKING_LOGS not in data
        if outer:
            data[TRACKING_LOGS] = []
        try:
            tracking = super()._message_track(fields_iter, initial_values_dict)
            logs = data[TRACKING_LOGS] if outer else []
        finally:
            if outer:
                data.pop(TRACKING_LOGS, None)
        # a job's tracking goes with the fleet's decision of the same transaction, when
        # there is one: a single chatter entry says what the fleet decided and what changed
        decision_messages = data.pop(DECISION_MESSAGES, {}) if outer else {}
        attached = []
        by_author = defaultdict(list)
        for record, body, author_id, tracking_value_ids in logs:
            message_id, message_author_id = decision_messages.get(record.id, (None, None))
            if message_id and not body and (author_id or self.env.user.partner_id.id) == message_author_id:
                attached += [dict(command[2], mail_message_id=message_id) for command in tracking_value_ids]
            else:
                by_author[author_id].append((record, body, tracking_value_ids))
        if attached:
            self.env["mail.tracking.value"].sudo().create(attached)
        for author_id, items in by_author.items():
            author_id, email_from = self._message_compute_author(author_id, None, raise_on_email=False)
            base = {
                "author_id": author_id,
                "email_from": email_from,
                "model": self._name,
                "record_alias_domain_id": False,
                "record_company_id": False,
                "record_name": False,
                "attachment_ids": False,
                "message_type": "notification",
                "is_internal": True,
                "subject": False,
                "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
                "email_add_signature": False,
                "partner_ids": False,
                "reply_to": self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False],
            }
            messages = self.sudo()._message_create([
                dict(base, res_id=record.id, body=escape(body),
                     message_id=generate_tracking_message_id("message-notify"))
                for record, body, _tracking_value_ids in items
            ])
            # mail creates each message's tracking values on their own: all at once here
            self.env["mail.tracking.value"].sudo().create([
                dict(command[2], mail_message_id=message.id)
                for (_record, _body, commands), message in zip(items, messages, strict=True)
                for command in commands
            ])
        return tracking

    def _message_log(self, *, body="", subject=False, author_id=None, email_from=None,
                     message_type="notification", partner_ids=False, attachment_ids=False,
                     tracking_value_ids=False):
        logs = self.env.cr.precommit.data.get(TRACKING_LOGS)
        if (logs is not None and tracking_value_ids and len(self) == 1
                and all(len(command) == 3 and command[0] == Command.CREATE for command in tracking_value_ids)
                and not subject and email_from is None and message_type == "notification"
                and not partner_ids and not attachment_ids):
            logs.append((self, body, author_id, tracking_value_ids))
            return self.env["mail.message"]
        return super()._message_log(body=body, subject=subject, author_id=author_id, email_from=email_from,
                                    message_type=message_type, partner_ids=partner_ids,
                                    attachment_ids=attachment_ids, tracking_value_ids=tracking_value_ids)


def _parse_timestamp(value):
    """:return: an Odoo datetime string from an RFC 3339 UTC timestamp, or False."""
    if not isinstance(value, str) or len(value) < 19:
        return False
    try:
        return fields.Datetime.to_string(fields.Datetime.to_datetime(value[:19].replace("T", " ")))
    except ValueError:
        return False
