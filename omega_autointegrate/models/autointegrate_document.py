"""The documents of a job's RO (contract 9): the shop's, sent from the job's
attachments, and the fleet's (a purchase order), downloaded once into them.

Both sides' documents reach the shop in the RO state (``documents``); each is
stored once, keyed by the fleet's document id. A fleet document is fetched
by a cron (the webhook makes no outbound call), checked against the digest,
size and type the fleet announced, and attached to the job.
"""

import hashlib
import logging

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import FLEET_DOCUMENT_KINDS
from ..lib import autointegrate as ai
from ..lib.autointegrate import bodies, contract
from ..tools import user_error

_logger = logging.getLogger(__name__)

#: documents fetched per run of the cron; it runs again at once while more wait
FETCH_BATCH = 20


class AutoIntegrateDocument(models.Model):
    _name = "autointegrate.document"
    _description = "AutoIntegrate fleet document"
    _order = "uploaded_at, id"
    _rec_name = "file_name"
    _check_company_auto = True

    repair_id = fields.Many2one(
        "repair.order", string="Repair Order", required=True, ondelete="cascade", index=True, check_company=True,
        readonly=True,
    )
    # precomputed: part of the INSERT, not an UPDATE after it
    company_id = fields.Many2one(related="repair_id.company_id", store=True, index=True, precompute=True)
    fleet_document_id = fields.Char(string="Fleet Document ID", required=True, readonly=True)
    author_type = fields.Selection([("shop", "Shop"), ("fleet", "Fleet")], string="From", required=True,
                                   readonly=True)
    kind = fields.Selection(FLEET_DOCUMENT_KINDS, readonly=True)
    line_ref = fields.Char(string="Line Reference", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Line", ondelete="set null", readonly=True)
    line_name = fields.Char(string="On Line", compute="_compute_line_name")
    file_name = fields.Char(required=True, readonly=True)
    content_type = fields.Char(readonly=True)
    size = fields.Integer(readonly=True)
    sha256 = fields.Char(string="SHA-256", readonly=True)
    description = fields.Char(readonly=True)
    uploaded_at = fields.Datetime(string="Date", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", ondelete="set null", readonly=True)
    fetch_error = fields.Char(
        readonly=True, help="Why the fleet's copy could not be taken: it is not downloaded again.",
    )

    _sql_constraints = [
        ("fleet_document_unique", "unique(repair_id, fleet_document_id)",
         "A fleet document is stored once per repair order."),
    ]

    @api.constrains("repair_id", "attachment_id", "sale_line_id")
    def _check_of_the_job(self):
        """A document of a job's RO is one of the job's attachments, about a line of its quotation."""
        for document in self:
            problem = document.repair_id._fleet_foreign_document(document.attachment_id, document.sale_line_id)
            if problem:
                raise ValidationError(_("%(file)s cannot be a fleet document of %(job)s: %(problem)s.",
                                        file=document.file_name, job=document.repair_id.name, problem=problem))

    @api.depends("line_ref", "sale_line_id.name")
    def _compute_line_name(self):
        for document in self:
            name = (document.sale_line_id.name or "").strip()
            document.line_name = name.splitlines()[0] if name else document.line_ref or False

    def action_open_document(self):
        """Open the document: the job's attachment, downloaded from the fleet first when it is not here yet."""
        self.ensure_one()
        self.repair_id._fleet_check_rights("read")
        document = self.sudo()
        if not document.attachment_id:
            client = document.repair_id.company_id._autointegrate_client(document.repair_id)
            try:
                document._fleet_fetch(client)
            except ai.AutoIntegrateError as error:
                raise user_error(self.env, error, client.base_url) from error
        if not document.attachment_id:
            raise UserError(_("The fleet's copy of %(file)s could not be taken: %(error)s",
                              file=document.file_name, error=document.fetch_error))
        return {"type": "ir.actions.act_url", "url": f"/web/content/{document.attachment_id.id}?download=true",
                "target": "new"}

    # ------------------------------------------------------------ fetching
    @api.model
    def _cron_fetch_documents(self):
        """Cron: download the fleet's documents not here yet into their jobs' attachments."""
        todo = self.sudo().search([("author_type", "=", "fleet"), ("attachment_id", "=", False),
                                   ("fetch_error", "=", False)], limit=FETCH_BATCH + 1)
        batch, remaining = todo[:FETCH_BATCH], len(todo) > FETCH_BATCH
        for company, documents in batch.grouped("company_id").items():
            for document in documents:
                try:
                    # the job's client: its download is logged under the job
                    client = company._autointegrate_client(document.repair_id)
                except UserError as error:  # the account was unset since: its documents wait
                    _logger.warning("Fleet documents of %s wait: %s", company.name, error)
                    break
                try:
                    with self.env.cr.savepoint():
                        document._fleet_fetch(client)
                except ai.AutoIntegrateError as error:
                    _logger.warning("Could not download fleet document %s of %s: %s", document.fleet_document_id,
                                    document.repair_id.name, error)
                    if error.retryable:
                        remaining = False  # the fleet is down: the next run tries again
                        break
        self.env["ir.cron"]._notify_progress(done=len(batch), remaining=int(remaining))

    def _fleet_fetch(self, client):
        """Download this document, check it against what the fleet announced,
        attach it to the job and say so in its chatter. A copy that does not
        match is refused (``fetch_error``) and not downloaded again.

        :raise AutoIntegrateError: the fleet could not be read
        """
        self.ensure_one()
        repair = self.repair_id
        try:
            served = client.document_content(repair.fleet_ro_id, self.fleet_document_id)
        except ai.ProtocolError as error:
            if error.retryable:
                raise
            self.fetch_error = error.message[:500]
            return
        problem = self._fleet_content_problem(served.content)
        if problem:
            _logger.warning("Refused fleet document %s of %s: %s", self.fleet_document_id, repair.name, problem)
            self.fetch_error = problem
            return
        # kept as the fleet sent them: no resizing of photos; a type outside the contract's is not served as such
        content_type = self.content_type if self.content_type in contract.DOCUMENT_CONTENT_TYPES else False
        attachment = self.env["ir.attachment"].with_context(image_no_postprocess=True).create({
            "name": self.file_name,
            "raw": served.content,
            "mimetype": content_type or "application/octet-stream",
            "res_model": "repair.order",
            "res_id": repair.id,
            "description": self.description or False,
        })
        self.attachment_id = attachment
        kind = dict(self._fields["kind"]._description_selection(self.env)).get(self.kind) or _("Document")
        body = Markup("%s <b>%s</b>%s") % (
            _("The fleet attached a document:"), self.file_name,
            Markup(" (%s)") % kind + (Markup(" <i>%s</i>") % self.line_name if self.line_ref else ""))
        repair.message_post(body=body, attachment_ids=attachment.ids,
                            subtype_xmlid="omega_autointegrate.mt_fleet_note")

    def _fleet_content_problem(self, content):
        """:return: why ``content`` is not the document the fleet announced, or ``None``"""
        if hashlib.sha256(content).hexdigest() != (self.sha256 or "").lower():
            return _("its content does not match the SHA-256 the fleet announced")
        if self.size and len(content) != self.size:
            return _("it has %(got)s bytes, not the %(size)s the fleet announced", got=len(content), size=self.size)
        if bodies.validate_document_content(self.content_type, content):
            return _("its content is not a %(type)s file", type=self.content_type)
        return None
