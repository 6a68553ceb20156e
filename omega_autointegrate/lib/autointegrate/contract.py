"""The contract's vocabulary and limits: what both sides must agree on.

Only names and numbers live here; the rules that use them are in
:mod:`.formatting` (values), :mod:`.bodies` (what the shop sends) and
:mod:`.answers` (what the fleet answers).
"""

LINE_TYPES = ("part", "labor", "fee", "sublet", "tire", "glass", "discount")
LINE_STATUSES = ("pending", "approved", "adjusted", "denied")
RO_STATUSES = (
    "pending",
    "approved",
    "partially_approved",
    "denied",
    "info_requested",
    "completed",
    "cancelled",
)
ODOMETER_UNITS = ("mi", "km")

NOTE_MAX = 4000
TEXT_MAX = 1000
SHORT_MAX = 64

#: revisions, sequences and document sizes are stored in 32-bit integer
#: columns by the addon; a larger one is refused as a protocol error rather
#: than overflowing there
SEQUENCE_MAX = 2**31 - 1

# ------------------------------------------------------------- documents (9)
DOCUMENT_KINDS = ("photo", "calibration_report", "estimate", "purchase_order", "other")
#: content type -> (offset, the bytes its content must have there)
DOCUMENT_MAGIC = {
    "image/jpeg": (0, b"\xff\xd8\xff"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "image/heic": (4, b"ftyp"),
    "application/pdf": (0, b"%PDF-"),
}
DOCUMENT_CONTENT_TYPES = tuple(DOCUMENT_MAGIC)
#: the largest document, decoded: 10 MiB
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
#: the largest upload body (base64 and JSON around it): 15 MiB
DOCUMENT_BODY_MAX_BYTES = 15 * 1024 * 1024
FILE_NAME_MAX = 255
