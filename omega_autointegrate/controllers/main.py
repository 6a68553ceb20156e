import logging

from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.modules.registry import Registry

from ..const import MAX_BODY_BYTES
from ..lib.autointegrate.signing import SIGNATURE_HEADER
from ..models.autointegrate_event import error_body

_logger = logging.getLogger(__name__)


class AutoIntegrateWebhookController(http.Controller):
    """Receives the fleet's webhooks: reads the body, hands it over, answers.

    The database comes from the URL (``/autointegrate/webhook/<db>``), so one
    Odoo server can serve several shops; ``/autointegrate/webhook`` works when
    the server has a single database.
    """

    @http.route(
        ["/autointegrate/webhook", "/autointegrate/webhook/<string:dbname>"],
        type="http", auth="none", methods=["POST"], csrf=False, save_session=False, readonly=False,
    )
    def autointegrate_webhook(self, dbname=None, **_kwargs):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            return self._answer(413, "bad_request", "body over 1 MB")
        raw = httprequest.get_data()  # a chunked body has no length: checked once read
        dbname = dbname or request.db
        # the request's own database exists (Odoo opened it); listing the databases costs a
        # connection and a query, so only another database is looked up
        if not dbname or (dbname != request.db and dbname not in http.db_list(force=True)):
            return self._answer(404, "not_found", "unknown database")
        signature = httprequest.headers.get(SIGNATURE_HEADER)
        if request.db == dbname and request.env is not None:
            # Odoo already opened this database for the request and commits it
            # before the answer leaves
            status, body = request.env(user=SUPERUSER_ID, su=True)["autointegrate.event"]._receive(raw, signature)
        else:
            with Registry(dbname).cursor() as cr:
                status, body = api.Environment(cr, SUPERUSER_ID, {})["autointegrate.event"]._receive(raw, signature)
        if status >= 400:
            _logger.info("AutoIntegrate webhook refused (%s): %s", status, body["error"]["message"])
        return request.make_json_response(body, status=status)

    @staticmethod
    def _answer(status, code, message):
        return request.make_json_response(error_body(code, message), status=status)
