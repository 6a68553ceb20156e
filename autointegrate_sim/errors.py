"""The contract's error answer, raised anywhere and rendered by the server."""


class ApiError(Exception):
    """An answer in the contract's error shape."""

    CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "bad_request",
             409: "invalid_state", 413: "payload_too_large", 422: "validation_error", 429: "rate_limited"}

    def __init__(self, status, code=None, message="", details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code or self.CODES.get(status, "server_error" if status >= 500 else "bad_request")
        self.message = message or self.code.replace("_", " ")
        self.details = details or []
        self.headers = headers or {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def invalid(details, message="the request breaks the contract's rules"):
    return ApiError(422, "validation_error", message, details)
