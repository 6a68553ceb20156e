"""Small HTTP helpers shared by the client API, the control API and the web page."""

import json
import re
from urllib.parse import parse_qs, unquote

from .errors import ApiError


class Response:
    """An answer to send: status, body bytes, extra headers."""

    def __init__(self, status, body=b"", headers=None, content_type="application/json"):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


def json_response(status, value, headers=None):
    return Response(status, json.dumps(value, ensure_ascii=False).encode(), headers)


def error_response(exc):
    return json_response(exc.status, exc.body(), exc.headers)


def route(routes, method, path):
    """:return: ``(target, params)`` for ``path``
    :raise ApiError: 404 for an unknown path, 405 for a known path and another method"""
    for pattern, methods in routes:
        match = pattern.fullmatch(path)
        if match:
            if method not in methods:
                raise ApiError(405, "bad_request", f"{method} is not allowed here",
                               headers={"Allow": ", ".join(sorted(methods))})
            return methods[method], {key: unquote(value) for key, value in match.groupdict().items()}
    raise ApiError(404, "not_found", f"no such endpoint: {path}")


def parse_json_object(raw):
    """:return: the decoded JSON object
    :raise ApiError: 400 when the body is not a JSON object"""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "bad_request", f"the body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(400, "bad_request", "the body must be a JSON object")
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def query_params(query):
    """:return: the first value of each query parameter."""
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


def is_digits(text):
    """Whether ``text`` is ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return isinstance(text, str) and re.fullmatch(r"[0-9]+", text) is not None


def parse_form(raw):
    """:return: the first value of each field of a form-encoded body."""
    return query_params(raw.decode("utf-8", "replace"))


def parse_multipart(raw, content_type):
    """:return: the fields of a ``multipart/form-data`` body, ``{name: (file name or None, bytes)}``
    (the first of each name)
    :raise ApiError: 400 when it is not such a body"""
    kind, _, params = (content_type or "").partition(";")
    boundary = None
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip().strip('"')
    if kind.strip().lower() != "multipart/form-data" or not boundary:
        raise ApiError(400, "bad_request", "the form must be multipart/form-data with a boundary")
    fields = {}
    for part in raw.split(b"--" + boundary.encode("latin-1"))[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, sep, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ApiError(400, "bad_request", "a form part has no headers")
        disposition = next((line for line in head.decode("utf-8", "replace").split("\r\n")
                            if line.lower().startswith("content-disposition:")), "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        file_name = re.search(r'\bfilename="([^"]*)"', disposition)
        if name and name.group(1) not in fields:
            fields[name.group(1)] = (file_name.group(1) if file_name else None, content.removesuffix(b"\r\n"))
    return fields


def redirect(location):
    return Response(303, b"", {"Location": location}, content_type="text/plain")


def html_response(status, text):
    return Response(status, text.encode(), content_type="text/html; charset=utf-8")
