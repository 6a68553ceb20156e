"""Turn :mod:`autointegrate` errors into messages a shop user can act on.

The wire client knows nothing of Odoo; this is the one place where its typed
errors, and the problems the fleet (or the addon's own check before sending)
finds in a body, become ``UserError`` text.
"""

import logging
import re
import threading
from contextlib import contextmanager

from odoo.exceptions import UserError
from odoo.tools.translate import LazyTranslate

from .lib import autointegrate as ai

_lt = LazyTranslate(__name__)

#: the fields of the bodies the fleet checks (contract 4.1 and 6.1), as a shop user knows them
FIELD_LABELS = {
    "fleet_company_id": _lt("Customer: Fleet Company ID"),
    "shop_id": _lt("Settings: AutoIntegrate Shop ID"),
    "shop_ro_ref": _lt("Repair reference"),
    "base_revision": _lt("Revision"),
    "currency": _lt("Currency"),
    "complaint": _lt("Complaint"),
    "notes": _lt("Request note"),
    "lines": _lt("Lines (add parts or services to the quotation)"),
    "invoice_number": _lt("Invoice number"),
    "invoice_date": _lt("Invoice date"),
    "odometer": _lt("Vehicle: odometer"),
}
LINE_FIELD_LABELS = {
    "line_ref": _lt("reference"),
    "type": _lt("fleet line type"),
    "service_code": _lt("service code"),
    "description": _lt("description"),
    "quantity": _lt("quantity"),
    "unit_price": _lt("unit price"),
    "amount": _lt("amount"),
    "taxable": _lt("taxes"),
    "notes": _lt("note"),
}
LINE_FIELD_RE = re.compile(r"^lines\[(\d+)\]\.?(\w*)")


def describe_problems(env, details, body=None, job=None, line_labels=None):
    """The problems found in a body sent (or about to be sent) to the fleet,
    as lines a shop user can act on: every refusal of the fleet (its 422
    ``details``, contract 1) and the addon's own check before sending.

    :param details: ``[{"field": ..., "message": ...}]``
    :param body: the body: its lines name the problems of ``lines[i]``
    :param job: the repair order of the body, named on each line's problem
    :param line_labels: ``{line_ref: label}`` naming the body's lines
        (default: their description)
    :return: one ``- ...`` line per problem
    """
    _ = env._
    lines = (body or {}).get("lines") or []
    out = []
    for item in details:
        if not isinstance(item, dict):
            out.append(f"- {item}")
            continue
        field = item.get("field") or ""
        message = item.get("message") or ""
        match = LINE_FIELD_RE.match(field)
        if match:
            index, what = int(match.group(1)), match.group(2)
            sent = lines[index] if index < len(lines) and isinstance(lines[index], dict) else {}
            ref = sent.get("line_ref") or "?"
            label = (line_labels or {}).get(ref) or sent.get("description") or _("line %(number)s", number=index + 1)
            what = LINE_FIELD_LABELS[what]._translate(env.lang or "en_US") if what in LINE_FIELD_LABELS else what
            if job:
                out.append(_("- %(job)s, line “%(line)s” (%(ref)s): %(what)s %(message)s",
                             job=job.name, line=label, ref=ref, what=what, message=message))
            else:
                out.append(_("- Line “%(line)s” (%(ref)s): %(what)s %(message)s",
                             line=label, ref=ref, what=what, message=message))
        elif field.startswith("vehicle."):
            out.append(_("- Vehicle: %(what)s: %(message)s", what=field.split(".", 1)[1].replace("_", " "),
                         message=message))
        elif field.startswith("totals."):
            out.append(_("- Totals: %(what)s: %(message)s", what=field.split(".", 1)[1], message=message))
        elif field:
            label = FIELD_LABELS[field]._translate(env.lang or "en_US") if field in FIELD_LABELS else field
            out.append(f"- {label}: {message}")
        else:
            out.append(f"- {message}")
    return "\n".join(out) or _("(no details given)")


def user_message(env, error, url=None):
    """:return: a translated sentence saying what failed and what to do."""
    _ = env._
    where = url or _("the AutoIntegrate API URL")
    if isinstance(error, ai.ConfigurationError):
        return _("AutoIntegrate is not set up correctly: %(error)s. Check Settings > Repairs > AutoIntegrate.",
                 error=error.message)
    if isinstance(error, ai.TransportError):
        if isinstance(error, ai.TLSError):
            return _("The secure (TLS) connection to %(url)s failed, so nothing was sent. Check the API URL "
                     "and the server's certificate.\n\nDetails: %(error)s", url=where, error=error.message)
        if not error.request_sent:
            return _("AutoIntegrate could not be reached at %(url)s, so nothing was sent. Check the API URL "
                     "and the network, then try again.\n\nDetails: %(error)s", url=where, error=error.message)
        # sent, but the answer was lost: the fleet may have acted on it
        return _("The request reached AutoIntegrate but its answer was lost (no answer in time, or the "
                 "connection closed): the fleet may already have acted on it. Trying again is safe: the same "
                 "request is never done twice.\n\nDetails: %(error)s", error=error.message)
    if isinstance(error, ai.AuthError):
        return _("AutoIntegrate refused the client ID or client secret. Check them in Settings > Repairs "
                 "> AutoIntegrate.")
    if isinstance(error, ai.ForbiddenError):
        return _("AutoIntegrate does not allow this shop to do that (wrong Shop ID, or a fleet this "
                 "account may not use).\n\nDetails: %(error)s", error=error.message)
    if isinstance(error, ai.UnknownFleetError):
        return _("AutoIntegrate does not know this Fleet Company ID. Check it on the customer's account.")
    if isinstance(error, ai.ValidationError):
        lines = describe_problems(env, error.details) if error.details else error.message
        return _("AutoIntegrate cannot accept this data. Fix the following and try again:\n%(lines)s", lines=lines)
    if isinstance(error, ai.ProtocolError) and not error.retryable:
        return _("AutoIntegrate sent an answer this module cannot read, so nothing was stored here. If it "
                 "happens again, send the details to AutoIntegrate's support.\n\nDetails: %(error)s",
                 error=error.message)
    if isinstance(error, ai.RateLimitedError):
        return _("AutoIntegrate is busy right now (too many requests). Try again in a minute.")
    if isinstance(error, ai.TransientError):
        return _("AutoIntegrate is temporarily unavailable. Nothing was lost: try again in a few minutes."
                 "\n\nDetails: %(error)s", error=error.message)
    return _("AutoIntegrate refused the request: %(error)s", error=error.message)


def user_error(env, error, url=None):
    """:return: a ``UserError`` for an :class:`autointegrate.AutoIntegrateError`."""
    return UserError(user_message(env, error, url))


class _ThreadMute(logging.Filter):
    """Drops the records of the threads that asked for quiet (:func:`quiet_sql_errors`)."""

    def __init__(self):
        super().__init__()
        self.local = threading.local()

    def filter(self, record):
        return not getattr(self.local, "quiet", False)


_SQL_MUTE = _ThreadMute()


@contextmanager
def quiet_sql_errors():
    """Leave out of the log the SQL errors that the caller expects and
    handles (a row another request inserted meanwhile), in this thread only.

    Odoo's ``mute_logger`` swaps the logger's handlers for every thread: two
    webhook requests muting at once can leave ``odoo.sql_db`` muted for the
    whole process, or log the other's expected error. A filter keyed on the
    thread does neither.
    """
    logging.getLogger("odoo.sql_db").addFilter(_SQL_MUTE)  # once: a filter is added once
    _SQL_MUTE.local.quiet = True
    try:
        yield
    finally:
        _SQL_MUTE.local.quiet = False
