"""The fleet's web page for people: list ROs, decide lines, talk in notes,
ask for documents and attach the fleet's own.

Plain HTML with a little inline CSS. Every piece of text that came from a
shop or a reviewer goes through :func:`esc`; forms post back and redirect
(303) to the RO page, carrying any error as ``?msg=``.
"""

import base64
import html
from urllib.parse import quote, urlencode

from autointegrate.contract import DOCUMENT_KINDS, DOCUMENT_MAGIC

from .errors import ApiError
from .fleet import DEFAULT_FLEET_AUTHOR
from .rules import CLOSED
from .web import Response, html_response, redirect

WEB_REVIEWER = DEFAULT_FLEET_AUTHOR + " (web)"
CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
.num{text-align:right;font-variant-numeric:tabular-nums}
.st{font-weight:600}.pending,.info_requested{color:#a60}.approved,.adjusted,.completed{color:#070}
.denied,.cancelled{color:#b00}.partially_approved{color:#05a}
.msg{background:#fee;border:1px solid #c99;padding:.5rem}
.note{border-left:3px solid #ccc;padding:.2rem .6rem;margin:.4rem 0;white-space:pre-wrap}
.note.fleet{border-color:#05a}
.requested{background:#fff6e0;border:1px solid #e0c080;padding:.4rem .8rem}
input[size]{font-family:monospace}
"""


def esc(value):
    """HTML-escape any value (``None`` shows as an empty string)."""
    return "" if value is None else html.escape(str(value), quote=True)


def _page(title, body, status=200):
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body>{body}</body></html>")
    return html_response(status, text)


def _status(value):
    return f"<span class='st {esc(value)}'>{esc(value)}</span>"


def _ro_url(ro_id, suffix=""):
    return f"/_admin/ui/ro/{quote(ro_id, safe='')}{suffix}"


# ------------------------------------------------------------------ pages
def index_page(sim, _query):
    """``GET /_admin/``: every RO, newest change first."""
    with sim.store.transaction():
        ros = sim.store.all_ros()
    ros.sort(key=lambda ro: (ro["state"]["updated_at"], ro["state"]["sequence"]), reverse=True)
    rows = "".join(
        f"<tr><td><a href='{esc(_ro_url(ro['ro_id']))}'>{esc(ro['ro_id'])}</a></td>"
        f"<td>{esc(ro['state']['shop_ro_ref'])}</td><td>{esc(ro['state']['fleet_company_id'])}</td>"
        f"<td>{_status(ro['state']['status'])}</td>"
        f"<td class='num'>{esc(ro['body']['totals']['total'])} {esc(ro['body'].get('currency'))}</td>"
        f"<td>{esc(ro['state']['updated_at'])}</td></tr>"
        for ro in ros
    )
    table = ("<table><tr><th>RO</th><th>Shop RO</th><th>Fleet</th><th>Status</th><th>Total</th><th>Updated</th></tr>"
             f"{rows}</table>" if ros else "<p>No repair orders yet.</p>")
    return _page("AutoIntegrate simulator", f"<h1>Repair orders</h1>{table}")


def ro_page(sim, ro_id, query):
    """``GET /_admin/ui/ro/<ro_id>``: vehicle, lines with decision forms, notes."""
    with sim.store.transaction():
        ro = sim.store.get_ro(ro_id)
        state = ro and sim.fleet.full_state(ro)
    if ro is None:
        return _page("Not found", f"<p>Unknown RO {esc(ro_id)}. <a href='/_admin/'>All ROs</a></p>", 404)
    body, open_ = ro["body"], state["status"] not in CLOSED
    parts = [
        "<p><a href='/_admin/'>&larr; All ROs</a></p>",
        f"<h1>{esc(state['ro_id'])} &middot; {esc(state['shop_ro_ref'])}</h1>",
        f"<p class='msg'>{esc(query['msg'])}</p>" if query.get("msg") else "",
        _summary(state, ro, body),
        _vehicle(body),
        _lines(state, body, open_),
        _decide_all_form(state) if open_ else "",
        _notes(state),
        _note_form(state) if open_ else "",
        _documents(state),
        _request_documents_form(state) if open_ else "",
        _document_form(state) if open_ else "",
    ]
    return _page(f"{state['ro_id']} - AutoIntegrate simulator", "".join(parts))


def _summary(state, ro, body):
    rows = [
        ("Fleet", state["fleet_company_id"]), ("Shop", f"{body.get('shop_id')} (client {ro['client_id']})"),
        ("Revision", state["revision"]), ("Authorization", state["authorization_number"]),
        ("Requested total", f"{body['totals']['total']} {body.get('currency')}"),
        ("Approved total", state["approved_total"]),
        ("Decided", f"{state['decided_by'] or ''} {state['decided_at'] or ''}"),
        ("Updated", f"{state['updated_at']} (sequence {state['sequence']})"), ("Complaint", body.get("complaint")),
    ]
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f"<p>Status: {_status(state['status'])}</p><table>{cells}</table>"


def _vehicle(body):
    vehicle = body.get("vehicle") or {}
    odometer = f"{vehicle.get('odometer') or ''} {vehicle.get('odometer_unit') or ''}"
    rows = [("VIN", vehicle.get("vin")), ("Plate", f"{vehicle.get('plate') or ''} {vehicle.get('plate_region') or ''}"),
            ("Unit", vehicle.get("unit_number")), ("Odometer", odometer),
            ("Vehicle", " ".join(str(vehicle.get(k) or "") for k in ("year", "make", "model")))]
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f"<h2>Vehicle</h2><table>{cells}</table>"


def _lines(state, body, open_):
    decisions = {line["line_ref"]: line for line in state["lines"]}
    head = ("<tr><th>Line</th><th>Type</th><th>Code</th><th>Description</th><th>Qty</th><th>Unit price</th>"
            "<th>Amount</th><th>Status</th><th>Approved qty</th><th>Approved amount</th><th>Reason</th>"
            + ("<th>Decide</th>" if open_ else "") + "</tr>")
    rows = []
    for line in body["lines"]:
        decision = decisions[line["line_ref"]]
        cells = [line["line_ref"], line["type"], line.get("service_code"), line["description"]]
        nums = [line["quantity"], line["unit_price"], line["amount"]]
        row = ("".join(f"<td>{esc(c)}</td>" for c in cells) + "".join(f"<td class='num'>{esc(n)}</td>" for n in nums)
               + f"<td>{_status(decision['status'])}</td><td class='num'>{esc(decision['approved_quantity'])}</td>"
               f"<td class='num'>{esc(decision['approved_amount'])}</td><td>{esc(decision['reason'])}</td>")
        if open_:
            row += f"<td>{_line_form(state['ro_id'], line)}</td>"
        rows.append(f"<tr>{row}</tr>")
    return f"<h2>Lines</h2><table>{head}{''.join(rows)}</table>"


def _line_form(ro_id, line):
    return (
        f"<form method='post' action='{esc(_ro_url(ro_id, '/decide'))}'>"
        f"<input type='hidden' name='line_ref' value='{esc(line['line_ref'])}'>"
        f"<input type='hidden' name='decided_by' value='{esc(WEB_REVIEWER)}'>"
        f"qty <input name='approved_quantity' size='7' value='{esc(line['quantity'])}'> "
        f"amount <input name='approved_amount' size='9' value='{esc(line['amount'])}'> "
        "<input name='reason' placeholder='reason' size='18'> "
        "<button name='action' value='approved'>Approve</button> "
        "<button name='action' value='adjusted'>Adjust</button> "
        "<button name='action' value='denied'>Deny</button></form>"
    )


def _decide_all_form(state):
    return (
        f"<form method='post' action='{esc(_ro_url(state['ro_id'], '/decide'))}'>"
        f"<input type='hidden' name='decided_by' value='{esc(WEB_REVIEWER)}'>"
        "<input name='reason' placeholder='reason (for every line)' size='30'> "
        "<button name='all' value='approved'>Approve all</button> "
        "<button name='all' value='denied'>Deny all</button></form>"
    )


def _notes(state):
    items = "".join(
        f"<div class='note {esc(note['author_type'])}'><b>{esc(note['author'])}</b> ({esc(note['author_type'])}"
        f"{', line ' + esc(note['line_ref']) if note['line_ref'] else ''}) {esc(note['created_at'])}\n"
        f"{esc(note['text'])}</div>"
        for note in state["notes"]
    )
    return f"<h2>Notes</h2>{items or '<p>No notes.</p>'}"


def _note_form(state):
    options = _line_options(state)
    return (
        f"<form method='post' action='{esc(_ro_url(state['ro_id'], '/note'))}'>"
        "<p><textarea name='text' rows='3' cols='70' required></textarea></p>"
        f"<p><select name='line_ref'>{options}</select> "
        f"author <input name='author' value='{esc(WEB_REVIEWER)}'> "
        "<label><input type='checkbox' name='request_info' value='1'> request information</label> "
        "<button>Add fleet note</button></p></form>"
    )


def _line_options(state, whole="whole RO"):
    return f"<option value=''>{esc(whole)}</option>" + "".join(
        f"<option value='{esc(line['line_ref'])}'>line {esc(line['line_ref'])}</option>" for line in state["lines"])


def _kind_options(selected):
    return "".join(f"<option value='{esc(kind)}'{' selected' if kind == selected else ''}>{esc(kind)}</option>"
                   for kind in DOCUMENT_KINDS)


def _documents(state):
    requested = "".join(
        f"<li>{esc(item['kind'])}{', line ' + esc(item['line_ref']) if item['line_ref'] else ''}: "
        f"{esc(item['text'])}</li>" for item in state["documents_requested"])
    parts = [f"<div class='requested'><b>Asked of the shop:</b><ul>{requested}</ul></div>" if requested else ""]
    rows = "".join(
        f"<tr><td><a href='{esc(_ro_url(state['ro_id'], '/documents/' + quote(doc['document_id'], safe='')))}'>"
        f"{esc(doc['file_name'])}</a></td><td>{esc(doc['author_type'])}</td><td>{esc(doc['kind'])}</td>"
        f"<td>{esc(doc['line_ref'] or 'whole RO')}</td><td>{esc(doc['content_type'])}</td>"
        f"<td class='num'>{esc(doc['size'])}</td><td>{esc(doc['description'])}</td><td>{esc(doc['uploaded_at'])}</td>"
        "</tr>" for doc in state["documents"])
    table = ("<table><tr><th>Document</th><th>From</th><th>Kind</th><th>Line</th><th>Type</th><th>Bytes</th>"
             f"<th>Description</th><th>Uploaded</th></tr>{rows}</table>" if rows else "<p>No documents.</p>")
    return "<h2>Documents</h2>" + parts[0] + table


def _request_documents_form(state):
    return (
        f"<form method='post' action='{esc(_ro_url(state['ro_id'], '/request_documents'))}'>"
        f"<p>Ask the shop for <select name='kind'>{_kind_options('photo')}</select> "
        f"of <select name='line_ref'>{_line_options(state)}</select> "
        "<input name='text' size='40' placeholder='what exactly (optional)'> "
        f"author <input name='author' value='{esc(WEB_REVIEWER)}'> "
        "<button>Request documents</button></p></form>"
    )


def _document_form(state):
    return (
        f"<form method='post' enctype='multipart/form-data' action='{esc(_ro_url(state['ro_id'], '/documents'))}'>"
        "<p>Attach a fleet document: <input type='file' name='file' required "
        "accept='application/pdf,image/jpeg,image/png,image/heic'> "
        f"<select name='kind'>{_kind_options('purchase_order')}</select> "
        f"<select name='line_ref'>{_line_options(state)}</select> "
        "<input name='description' size='30' placeholder='description (optional)'> "
        "<button>Attach</button></p></form>"
    )


def sniff_content_type(content):
    """:return: the contract's content type whose first bytes ``content`` has, or ``None``."""
    for content_type, (offset, magic) in DOCUMENT_MAGIC.items():
        if content[offset:offset + len(magic)] == magic:
            return content_type
    return None


# ------------------------------------------------------------------ forms
def _back(ro_id, exc=None):
    if exc is None:
        return redirect(_ro_url(ro_id))
    fields = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in exc.details if isinstance(d, dict))
    return redirect(_ro_url(ro_id) + "?" + urlencode({"msg": exc.message + (f" ({fields})" if fields else "")}))


def _apply(sim, ro_id, action, *args, **kwargs):
    """Run ``action(*args, **kwargs)`` in one transaction, then back to the RO page (with its error, if any)."""
    try:
        with sim.store.transaction():
            action(*args, **kwargs)
    except ApiError as exc:
        return _back(ro_id, exc)
    return _back(ro_id)


def decide_form(sim, ro_id, form):
    """``POST /_admin/ui/ro/<ro_id>/decide``: one line, or every line."""
    body = {"decided_by": form.get("decided_by") or WEB_REVIEWER}
    reason = form.get("reason") or None
    if form.get("all"):
        body["all"] = form["all"]
        if reason:
            with sim.store.transaction():
                ro = sim.store.get_ro(ro_id)
            refs = [line["line_ref"] for line in ro["state"]["lines"]] if ro else []
            body["lines"] = [{"line_ref": ref, "status": form["all"], "reason": reason} for ref in refs]
    else:
        spec = {"line_ref": form.get("line_ref"), "status": form.get("action"), "reason": reason}
        if form.get("action") == "adjusted":
            for key in ("approved_quantity", "approved_amount"):
                if form.get(key):
                    spec[key] = form[key].strip()
        body["lines"] = [spec]
    return _apply(sim, ro_id, sim.fleet.decide, ro_id, body)


def note_form(sim, ro_id, form):
    """``POST /_admin/ui/ro/<ro_id>/note``: a fleet note, maybe asking for information."""
    note = {"text": form.get("text", ""), "line_ref": form.get("line_ref") or None,
            "author": form.get("author") or WEB_REVIEWER}
    return _apply(sim, ro_id, sim.fleet.add_note, None, ro_id, note, author_type="fleet",
                  request_info=bool(form.get("request_info")))


def request_documents_form(sim, ro_id, form):
    """``POST /_admin/ui/ro/<ro_id>/request_documents``: ask the shop for one kind of document."""
    body = {"items": [{"kind": form.get("kind"), "line_ref": form.get("line_ref") or None,
                       "text": (form.get("text") or "").strip() or None}],
            "author": form.get("author") or WEB_REVIEWER}
    return _apply(sim, ro_id, sim.fleet.request_documents, ro_id, body)


def document_form(sim, ro_id, fields):
    """``POST /_admin/ui/ro/<ro_id>/documents`` (multipart): attach a fleet document, its type read from its bytes."""
    file_name, content = fields.get("file", (None, b""))

    def text(name):
        return fields.get(name, (None, b""))[1].decode("utf-8", "replace").strip() or None

    body = {"file_name": file_name or "document", "content_type": sniff_content_type(content) or "",
            "kind": text("kind"), "line_ref": text("line_ref"), "description": text("description"),
            "content_base64": base64.b64encode(content).decode("ascii")}
    return _apply(sim, ro_id, sim.fleet.upload_document, None, ro_id, body, author_type="fleet")


def document_download(sim, ro_id, document_id, _query):
    """``GET /_admin/ui/ro/<ro_id>/documents/<document_id>``: the document's bytes, shown in the browser."""
    try:
        with sim.store.transaction():
            document, content = sim.fleet.document_file(None, ro_id, document_id)
    except ApiError as exc:
        return _page("Not found", f"<p>{esc(exc.message)}. <a href='/_admin/'>All ROs</a></p>", exc.status)
    # the shop's bytes on the fleet's page: never taken for anything but the file they claim to be
    headers = {"Content-Disposition": f"inline; filename*=UTF-8''{quote(document['file_name'])}",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    return Response(200, content, headers, content_type=document["content_type"])
