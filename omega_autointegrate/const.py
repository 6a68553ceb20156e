"""What the addon's files share: the fleet's statuses and their groups, the
fleet line types, the names of the settings' parameters and context keys."""

from .lib.autointegrate import contract

#: the fleet status of a job: contract 4.4's RO statuses, and not sent yet
FLEET_STATUSES = [
    ("not_sent", "Not sent"),
    ("pending", "Awaiting fleet"),
    ("approved", "Approved"),
    ("partially_approved", "Partially approved"),
    ("denied", "Denied"),
    ("info_requested", "Information requested"),
    ("completed", "Invoiced"),
    ("cancelled", "Cancelled"),
]
#: what the jobs' lists and kanban show: the fleet status, or that an approved RO changed since
FLEET_DISPLAY_STATUSES = [*FLEET_STATUSES, ("changed", "Changed since approval")]
#: the fleet's decision on a quotation line (contract 4.4)
FLEET_LINE_STATUSES = [
    ("pending", "Awaiting fleet"),
    ("approved", "Approved"),
    ("adjusted", "Adjusted"),
    ("denied", "Denied"),
]
#: how a product is reported to fleets (contract 4.1)
FLEET_LINE_TYPES = [
    ("part", "Part"),
    ("labor", "Labor"),
    ("fee", "Fee"),
    ("sublet", "Sublet"),
    ("tire", "Tire"),
    ("glass", "Glass"),
    ("discount", "Discount"),
]
#: what a document is to the fleet (contract 9.1)
FLEET_DOCUMENT_KINDS = [
    ("photo", "Photo"),
    ("calibration_report", "Calibration report"),
    ("estimate", "Estimate"),
    ("purchase_order", "Purchase order"),
    ("other", "Other"),
]
assert [code for code, _label in FLEET_STATUSES[1:]] == list(contract.RO_STATUSES)
assert [code for code, _label in FLEET_LINE_STATUSES] == list(contract.LINE_STATUSES)
assert [code for code, _label in FLEET_LINE_TYPES] == list(contract.LINE_TYPES)
assert [code for code, _label in FLEET_DOCUMENT_KINDS] == list(contract.DOCUMENT_KINDS)

#: fleet statuses of an RO that can no longer change
CLOSED_STATUSES = ("completed", "cancelled")
#: fleet statuses under which approved work may be done and invoiced
APPROVED_STATUSES = ("approved", "partially_approved")
#: line statuses whose work the fleet pays
INVOICEABLE_LINE_STATUSES = ("approved", "adjusted")
#: the fleet status of a job while the shop waits on the fleet's decision: the approval clock runs
#: (in info_requested the fleet waits on the shop)
WAITING_STATUSES = ("pending",)
#: share of the fleet's agreed response time after which a waiting job shows as due soon
DUE_SOON_SHARE = 0.75

#: system parameters of Settings > Repairs > AutoIntegrate
PARAM_CONNECT_TIMEOUT = "omega_autointegrate.connect_timeout"
PARAM_READ_TIMEOUT = "omega_autointegrate.read_timeout"
PARAM_LOG_RETENTION_DAYS = "omega_autointegrate.log_retention_days"
DEFAULT_RETENTION_DAYS = 30

#: the group of the users who talk to the fleets (send jobs, read their fleet status and notes, cancel their
#: ROs); the Manager group implies it
GROUP_USER = "omega_autointegrate.group_autointegrate_user"

#: context key set while a payment transaction is post-processed (see payment.transaction)
ONLINE_PAYMENT_CONTEXT = "autointegrate_online_payment"

#: the largest webhook body taken (contract 7)
MAX_BODY_BYTES = 1024 * 1024
#: how long a webhook event of an RO no job knows is kept (its submission may not have committed yet)
EVENT_ORPHAN_DAYS = 7
#: when the cron tries again the events whose job was busy (seconds)
EVENT_RETRY_S = 10

#: the fleet status of a posted invoice (contract 6.1): sent after the posting's commit, retried until answered
FLEET_INVOICE_STATUSES = [
    ("to_send", "To send to the fleet"),
    ("sent", "Sent, no answer yet"),
    ("approved", "Fleet approved"),
    ("refused", "Refused by the fleet"),
]
#: fleet invoice statuses that wait for the fleet's answer (the cron sends them again)
FLEET_INVOICE_WAITING = ("to_send", "sent")
#: the first wait before a fleet invoice is sent again, doubled on each try up to the longest (seconds)
FLEET_INVOICE_RETRY_S = 60
FLEET_INVOICE_RETRY_MAX_S = 3600
#: tries of one send right after the posting's commit (the user waits for them); the cron tries further
FLEET_INVOICE_TRIES_AT_ONCE = 2
