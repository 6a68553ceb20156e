from . import (
    autointegrate_communication_wizard,
    autointegrate_document_wizard,
    autointegrate_repair_invoice_wizard,
    autointegrate_send_wizard,
    sale_advance_payment_inv,
)
