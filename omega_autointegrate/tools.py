"""Turn :mod:`autointegrate` errors into messages a shop user can act on.

The wire client knows nothing of Odoo; this is the one place where its typed
errors become ``UserError`` text.
"""

from odoo.exceptions import UserError

from .lib import autointegrate as ai


def user_message(env, error, url=None):
    """:return: a translated sentence saying what failed and what to do."""
    _ = env._
    where = url or _("the AutoIntegrate API URL")
    if isinstance(error, ai.ConfigurationError):
        return _("AutoIntegrate is not set up correctly: %(error)s. Check Settings > Repairs > AutoIntegrate.",
                 error=error.message)
    if isinstance(error, ai.TransportError):
        if isinstance(error, ai.TLSError):
            return _("The secure (TLS) connection to %(url)s failed. Check the API URL and the server's "
                     "certificate.\n\nDetails: %(error)s", url=where, error=error.message)
        return _("AutoIntegrate could not be reached at %(url)s. Check the API URL and the network, "
                 "then try again.\n\nDetails: %(error)s", url=where, error=error.message)
    if isinstance(error, ai.AuthError):
        return _("AutoIntegrate refused the client ID or client secret. Check them in Settings > Repairs "
                 "> AutoIntegrate.")
    if isinstance(error, ai.ForbiddenError):
        return _("AutoIntegrate does not allow this shop to do that (wrong Shop ID, or a fleet this "
                 "account may not use).\n\nDetails: %(error)s", error=error.message)
    if isinstance(error, ai.UnknownFleetError):
        return _("AutoIntegrate does not know this Fleet Company ID. Check it on the customer's account.")
    if isinstance(error, ai.ValidationError):
        lines = "\n".join("- " + item for item in error.field_messages())
        return _("AutoIntegrate cannot accept this data. Fix the following and try again:\n%(lines)s",
                 lines=lines or error.message)
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
