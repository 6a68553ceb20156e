import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..const import MAX_BODY_BYTES
from ..lib.autointegrate.signing import SIGNATURE_HEADER
from ..models.autointegrate_event import error_body

_logger = logging.getLogger(__name__)


class AutoIntegrateWebhookController(http.Controller):
    """Receives the fleet's webhooks: reads the body and its signature,
    hands them over to ``autointegrate.event._receive`` (which verifies,
    stores and applies them) and answers.

    The database is the request's, as Odoo chooses it for any public route
    (the server's only database, or the db-filter's for the request's host),
    so the handling runs in Odoo's own transaction: a serialization failure
    (a webhook and the poll applying the same RO) is rolled back and run
    again by Odoo, and the answer leaves once the transaction is committed.
    The URL names the database (``/autointegrate/webhook/<db>``, as Settings
    shows it) so that a delivery meant for another shop is refused.
    """

    @http.route(
        ["/autointegrate/webhook", "/autointegrate/webhook/<string:dbname>"],
        type="http", auth="none", methods=["POST"], csrf=False, save_session=False, readonly=False,
    )
    def autointegrate_webhook(self, dbname=None, **_kwargs):
        if dbname and dbname != request.db:
            return self._answer(404, "not_found", "unknown database")
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            return self._answer(413, "bad_request", "body over 1 MB")
        raw = httprequest.get_data()  # a chunked body has no length: checked once read
        signature = httprequest.headers.get(SIGNATURE_HEADER)
        status, body = request.env(user=SUPERUSER_ID, su=True)["autointegrate.event"]._receive(raw, signature)
        if status >= 400:
            _logger.info("AutoIntegrate webhook refused (%s): %s", status, body["error"]["message"])
        return request.make_json_response(body, status=status)

    @staticmethod
    def _answer(status, code, message):
        return request.make_json_response(error_body(code, message), status=status)
