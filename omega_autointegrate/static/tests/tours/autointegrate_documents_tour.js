/** @odoo-module **/
/**
 * The fleet asked for documents: the job says so, and one click sends what
 * matches. The fleet's request is made in Python (tests/test_tour_documents.py)
 * before the tour runs.
 */
import { registry } from "@web/core/registry";

const ACCOUNT = "Enterprise Fleet Management";
const MODAL = ".modal:not(.o_inactive_modal)";
const REQUEST = "Photo of the crack, please";
const BANNER = ".o_form_sheet .alert:contains(The fleet asks for documents)";

registry.category("web_tour.tours").add("autointegrate_tour_documents", {
    url: "/web#action=repair.action_repair_order_tree",
    steps: () => [
        {
            content: "open the job of the fleet account",
            trigger: `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${ACCOUNT})) td[name=name]`,
            run: "click",
        },
        { content: "the job says what the fleet asks for", trigger: `${BANNER}:contains(${REQUEST})` },
        {
            content: "Send the Requested Documents",
            trigger: `${BANNER} button[name=action_fleet_send_documents]`,
            run: "click",
        },
        {
            content: "the photo is chosen for the glass line, as asked",
            trigger: `${MODAL} .o_data_row:has(td[name=attachment_id]:contains(windshield.jpg)):has(td[name=kind]:contains(Photo)) td[name=sale_line_id]:contains(Windshield)`,
        },
        {
            content: "the other file is not",
            trigger: `${MODAL} .o_data_row.text-muted:has(td[name=attachment_id]:contains(receipt.pdf))`,
        },
        { content: "Send", trigger: `${MODAL} button[name=action_send]`, run: "click" },
        { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
        {
            content: "the fleet reviews the job again",
            trigger: ".o_form_sheet > .o_field_widget[name=fleet_status] .badge:contains(Awaiting fleet)",
        },
        { content: "and asks for nothing more", trigger: `.o_form_sheet:not(:has(${BANNER}))` },
        { content: "Fleet Authorizations", trigger: ".o_notebook a[name=fleet_authorizations]", run: "click" },
        {
            content: "the revision sent, line by line",
            trigger: ".o_field_widget[name=fleet_authorization_line_ids] .o_data_row td[name=description]:contains(Windshield)",
        },
    ],
});
