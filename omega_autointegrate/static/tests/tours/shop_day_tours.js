/** @odoo-module **/
/**
 * The shop's day, a tour per point (tests/test_tour_shop_day.py sets up the
 * jobs and the fleet's decisions, then checks what reached the fleet).
 */
import { queryAll, queryOne } from "@odoo/hoot-dom";
import { registry } from "@web/core/registry";
import {
    checkTexts,
    closeDialog,
    DENIAL,
    editField,
    GLASS,
    glassRow,
    invoiceFromList,
    JOB_BADGE,
    LABOR,
    laborRow,
    MODAL,
    REQUEST_NOTE,
    UNTOUCHED_RESUBMIT,
} from "@omega_autointegrate/../tests/tours/autointegrate_tour";

const ADJUSTED = "1.0 h as the rate card allows";
const QUESTION = "Which glass brand?";
const VEHICLE = "2022 Ford F-150 · 7ABC123";
const AGAIN_NOTE = "Please look at the labour again: ADAS recalibration included";

const tours = registry.category("web_tour.tours");
const JOB_LINES = ".o_field_widget[name=fleet_line_ids]";
const NOTES = `${MODAL} .o_field_widget[name=note_ids]`;
/** The list's row of the job of the driver `name`. */
const rowOf = (name) => `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${name}))`;
const DANA = rowOf("Dana Driver");

function openFleetTab() {
    return [
        { content: "Fleet tab", trigger: ".o_notebook a[name=fleet]", run: "click" },
        { content: "the job's lines", trigger: `${JOB_LINES} .o_data_row` },
    ];
}

function openSendToFleet() {
    return [
        { content: "Send to Fleet", trigger: ".o_statusbar_buttons button[name=action_send_to_fleet]", run: "click" },
        { content: "the dialog", trigger: `${MODAL} .o_field_widget[name=line_ids] .o_data_row` },
    ];
}

function openFleetCommunication() {
    return [
        {
            content: "Fleet Communication, by its name",
            trigger: ".oe_stat_button[name=action_fleet_communication]:contains(Fleet Communication)",
            run: "click",
        },
        { content: "the job's communication", trigger: `${NOTES} .o_data_row` },
    ];
}

/** Fails the tour when the texts `selector` holds are not in the order of `texts`. */
function checkOrder(selector, texts) {
    return function () {
        const cells = queryAll(selector).map((el) => el.textContent.trim());
        const at = texts.map((text) => cells.findIndex((cell) => cell.includes(text)));
        if (at.some((index, i) => index < 0 || (i && index <= at[i - 1]))) {
            throw new Error(`${JSON.stringify(texts)} are not in this order in ${JSON.stringify(cells)}`);
        }
    };
}

// 1: a job the fleet partly denied, only looked at: not modified, and nothing but reads reach the fleet
tours.add("autointegrate_tour_untouched", {
    steps: () => [
        { content: "the job's form", trigger: `${JOB_BADGE}:contains(Partially approved)` },
        { content: "SAVE AND SEND TO FLEET, no pending change to discard", trigger: UNTOUCHED_RESUBMIT },
        { content: "Parts tab", trigger: ".o_notebook a[name=parts]", run: "click" },
        { content: "Miscellaneous tab", trigger: ".o_notebook a[name=page_miscellaneous]", run: "click" },
        ...openFleetTab(),
        ...openSendToFleet(),
        {
            content: "the fleet's reason of the labour",
            trigger: `${laborRow(MODAL, "description")} td[name=fleet_reason]:contains(${DENIAL})`,
        },
        {
            content: "an unchanged RO can be sent again, explicitly",
            trigger: `${MODAL} .modal-footer:not(:has(button[name=action_submit])) button[name=action_send_again]:contains(Send Again)`,
        },
        ...closeDialog(),
        ...openFleetCommunication(),
        ...closeDialog(),
        ...openFleetTab(),
        {
            content: "the labour line's Fleet Communication, by its name",
            trigger: `${laborRow(JOB_LINES)} button[name=action_fleet_communication]:contains(Fleet Communication)`,
            run: "click",
        },
        { content: "the line's communication", trigger: `${NOTES} td[name=text]:contains(${DENIAL})` },
        ...closeDialog(),
        { content: "still not modified", trigger: UNTOUCHED_RESUBMIT },
    ],
});

// 1: a repair user without the AutoIntegrate right edits a denied job: Odoo's own save, no SAVE AND SEND TO FLEET
tours.add("autointegrate_tour_no_fleet_right", {
    steps: () => [
        { content: "the job's form", trigger: `${JOB_BADGE}:contains(Partially approved)` },
        {
            content: "no SAVE AND SEND TO FLEET, nothing to save",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send)):has(.o_form_status_indicator_buttons.invisible)",
        },
        ...openFleetTab(),
        { content: "edit the labour quantity", trigger: `${laborRow(JOB_LINES)} td[name=product_uom_qty]`, run: "click" },
        editField("product_uom_qty", "1.0", `${JOB_LINES} .o_selected_row`),
        {
            content: "Odoo's own save, still no SAVE AND SEND TO FLEET",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send)) button.o_form_button_save:not(.d-none)",
            run: "click",
        },
        {
            content: "saved, and it waits for a user who may send it",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send)):has(.o_form_status_indicator_buttons.invisible)",
        },
    ],
});

// 1: SEND TO FLEET's Send Again, with a note saying why
tours.add("autointegrate_tour_send_again", {
    steps: () => [
        { content: "the job's form", trigger: `${JOB_BADGE}:contains(Partially approved)` },
        ...openSendToFleet(),
        { content: "a note", trigger: `${MODAL} .o_field_text[name=note] textarea`, run: `edit ${AGAIN_NOTE}` },
        { content: "Send Again", trigger: `${MODAL} button[name=action_send_again]`, run: "click" },
        { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
        { content: "sent", trigger: ".o_notification:contains(Sent to the fleet)" },
        ...openFleetTab(),
        { content: "revision 2", trigger: ".o_field_widget[name=fleet_revision]:contains(2)" },
        {
            content: "nothing left to send",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send))",
        },
    ],
});

// 2: every word of the fleet in FLEET COMMUNICATION, in time order; the line's own only on the line
tours.add("autointegrate_tour_fleet_words", {
    steps: () => [
        { content: "the job's form", trigger: `${JOB_BADGE}:contains(Information requested)` },
        ...openFleetCommunication(),
        {
            content: "the denial's reason, with its line",
            trigger: `${NOTES} .o_data_row:has(td[name=decision]:contains(Denied)):has(td[name=text]:contains(${DENIAL})) td[name=line_label]:contains(${LABOR})`,
        },
        {
            content: "the reason of the adjustment that replaced it",
            trigger: `${NOTES} .o_data_row:has(td[name=decision]:contains(Adjusted)) td[name=text]:contains(${ADJUSTED})`,
        },
        {
            content: "the fleet's question",
            trigger: `${NOTES} .o_data_row:has(td[name=kind]:contains(Information request)) td[name=text]:contains(${QUESTION})`,
        },
        {
            content: "with the shop's note, all in time order, the shop's note signed by its author",
            trigger: `${NOTES} .o_data_row:has(td[name=text]:contains(${REQUEST_NOTE})) td[name=author]:not(:contains(SHOP-17))`,
            run: checkOrder(`${NOTES} td[name=text]`, [REQUEST_NOTE, DENIAL, ADJUSTED, QUESTION]),
        },
        ...closeDialog(),
        ...openFleetTab(),
        {
            content: "the labour line's Fleet Communication",
            trigger: `${laborRow(JOB_LINES)} button[name=action_fleet_communication]`,
            run: "click",
        },
        {
            content: "the labour line's reasons only",
            trigger: `${NOTES} td[name=text]:contains(${ADJUSTED})`,
            run: checkTexts(`${NOTES} td[name=text]`, [DENIAL, ADJUSTED], [REQUEST_NOTE, QUESTION]),
        },
        { content: "titled with the line", trigger: `${MODAL} .modal-title:contains(${LABOR})` },
        ...closeDialog(),
    ],
});

// 3: accept a partial approval, then invoice without sending again
tours.add("autointegrate_tour_accept", {
    steps: () => [
        { content: "the job's form", trigger: `${JOB_BADGE}:contains(Partially approved)` },
        {
            content: "Accept Fleet Decision",
            trigger: ".o_statusbar_buttons button[name=action_fleet_accept_decision]",
            run: "click",
        },
        {
            content: "confirm",
            trigger: `${MODAL}:contains(leave the quotation) .modal-footer .btn-primary`,
            run: "click",
        },
        { content: "accepted", trigger: ".o_notification:contains(Fleet decision accepted)" },
        {
            content: "nothing left to send, nothing to accept",
            trigger: ".o_form_view:not(:has(.o_fleet_save_and_send)):not(:has(button[name=action_fleet_accept_decision]))",
        },
        ...openFleetTab(),
        {
            content: "the labour stays on the job, declined by the fleet, at quantity 0",
            trigger: `${laborRow(JOB_LINES)}:has(td[name=fleet_declined] input:checked) td[name=product_uom_qty]:contains(0.000)`,
        },
        {
            content: "the glass as approved",
            trigger: `${glassRow(JOB_LINES)} td[name=product_uom_qty]:contains(1.000)`,
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        ...invoiceFromList(DANA),
        { content: "the invoice opens", trigger: ".o_form_view .o_field_widget[name=invoice_line_ids]" },
        { content: "posted", trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Posted)" },
        {
            content: "the approved glass only",
            trigger: ".o_form_view .o_field_widget[name=invoice_line_ids] .o_data_row",
            run: checkTexts(".o_form_view .o_field_widget[name=invoice_line_ids] .o_data_row", [GLASS], [LABOR]),
        },
    ],
});

// 4: the vehicle in the list, the search, the kanban, Fleet Approvals and the form's header
const ids = {};

/** Search the jobs' Vehicle for `text` (a function: a value read earlier), then check the rows found. */
function searchVehicle(what, text) {
    return [
        {
            content: `search the ${what}`,
            trigger: ".o_searchview_input",
            run: async (helpers) => helpers.edit(typeof text === "function" ? text() : text),
        },
        {
            content: "in Vehicle",
            trigger: ".o_searchview_autocomplete .o_menu_item:contains(Search Vehicle for)",
            run: "click",
        },
        {
            content: `the job only, by its ${what}`,
            trigger: `.o_list_view:not(:has(.o_data_row:not(:contains(${VEHICLE})))) .o_data_row:contains(Dana Driver)`,
        },
        { content: "clear the search", trigger: ".o_searchview_facet .o_facet_remove", run: "click" },
        { content: "every job again", trigger: ".o_list_view td[name=fleet_vehicle]:contains(Toyota RAV4)" },
    ];
}

tours.add("autointegrate_tour_vehicle", {
    steps: () => [
        {
            content: "the vehicle in the jobs' list",
            trigger: `${DANA} td[name=fleet_vehicle]:contains(${VEHICLE})`,
        },
        {
            content: "the other job's",
            trigger: ".o_list_view td[name=fleet_vehicle]:contains(2021 Toyota RAV4 · 8XYZ999)",
        },
        {
            // both jobs are Dana Driver's, created at once: their order in the list is a tie
            content: "open the job",
            trigger: `${DANA}:has(td[name=fleet_vehicle]:contains(${VEHICLE})) td[name=name]`,
            run: "click",
        },
        {
            content: "the vehicle in the job's header",
            trigger: `.o_form_view [name=fleet_vehicle_title]:contains(${VEHICLE})`,
        },
        ...openFleetTab(),
        {
            content: "its fleet RO and authorization",
            trigger: ".o_field_widget[name=fleet_authorization_number]:contains(AUTH-)",
            run() {
                ids.ro = queryOne(".o_field_widget[name=fleet_ro_id]").textContent.trim();
                ids.auth = this.anchor.textContent.trim();
            },
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        { content: "the jobs", trigger: DANA },
        ...searchVehicle("plate", "7ABC123"),
        ...searchVehicle("VIN", "1FTFW1E50NFA00001"),
        ...searchVehicle("unit number", "U-5521"),
        ...searchVehicle("fleet RO", () => ids.ro),
        ...searchVehicle("authorization number", () => ids.auth),
        { content: "the kanban", trigger: ".o_switch_view.o_kanban", run: "click" },
        {
            content: "the vehicle on the job's card",
            trigger: `.o_kanban_record:contains(${VEHICLE}):contains(Partially approved)`,
        },
        {
            content: "Repairs > Fleet Approvals",
            trigger: ".o_menu_sections [data-menu-xmlid='omega_autointegrate.menu_repair_fleet_approvals']",
            run: "click",
        },
        { content: "Fleet Approvals opens", trigger: ".o_breadcrumb .active:contains(Fleet Approvals)" },
        {
            content: "the vehicle in Fleet Approvals",
            trigger: `${DANA} td[name=fleet_vehicle]:contains(${VEHICLE})`,
        },
    ],
});

// 6: the smaller points
tours.add("autointegrate_tour_small", {
    steps: () => [
        {
            content: "an approved job changed since reads so, not a green Approved",
            trigger: `${rowOf("Sam Ortiz")} td[name=fleet_display_status] .badge.text-bg-warning:contains(Changed since approval)`,
        },
        // the Invoice dialog closes when the invoice is refused, the reason stays on screen
        ...invoiceFromList(DANA),
        { content: "refused, and why", trigger: ".o_notification:contains(The fleet denied lines)" },
        { content: "the Invoice dialog is closed", trigger: "body:not(:has(.modal))" },
        { content: "open the job", trigger: `${DANA} td[name=name]`, run: "click" },
        ...openFleetTab(),
        {
            content: "quantities with the contract's three decimals on the job",
            trigger: `${laborRow(JOB_LINES)} td[name=product_uom_qty]:contains(1.500)`,
        },
        {
            content: "the line's Fleet Communication has a name",
            trigger: `${laborRow(JOB_LINES)} button[name=action_fleet_communication]:contains(Fleet Communication)`,
        },
        ...openSendToFleet(),
        {
            content: "and in the dialog",
            trigger: `${laborRow(MODAL, "description")} td[name=quantity]:contains(1.500)`,
        },
        {
            content: "descriptions as the fleet reads them, without Odoo's product code",
            trigger: `${glassRow(MODAL, "description")} td[name=service_code]:contains(GLASS-WS)`,
            run: checkTexts(`${MODAL} td[name=description]`, [GLASS], ["[GLASS-WS]"]),
        },
        {
            content: "no column cut off at 1440 pixels",
            trigger: `${MODAL} .o_field_widget[name=line_ids] .o_data_row`,
            run() {
                const cut = queryAll(`${MODAL} .o_field_widget[name=line_ids] :is(th, td)`).filter(
                    (cell) => cell.offsetWidth && cell.scrollWidth > cell.clientWidth + 1
                );
                if (cut.length) {
                    throw new Error(`cut off: ${cut.map((cell) => cell.textContent.trim()).join(" | ")}`);
                }
                const dialog = queryOne(`${MODAL} .modal-dialog`);
                if (dialog.getBoundingClientRect().right > window.innerWidth) {
                    throw new Error("the dialog is wider than the window");
                }
            },
        },
        ...closeDialog(),
        ...openFleetCommunication(),
        {
            content: "the shop's note is signed by the user who wrote it, not the shop",
            trigger: `${NOTES} .o_data_row:has(td[name=text]:contains(${REQUEST_NOTE})) td[name=author]:not(:empty):not(:contains(SHOP-17))`,
        },
        ...closeDialog(),
    ],
});

// 5: the fleet decides while the job's form, then the jobs' list, is open
tours.add("autointegrate_tour_live", {
    steps: () => [
        { content: "the job's form, awaiting the fleet", trigger: `${JOB_BADGE}:contains(Awaiting fleet)` },
        {
            content: "the fleet's approval shows without a reload",
            trigger: `${JOB_BADGE}:contains(/^\\s*Approved\\s*$/)`,
            timeout: 30000,
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        {
            content: "the other job awaits the fleet",
            trigger: `${rowOf("Sam Ortiz")} td[name=fleet_display_status]:contains(Awaiting fleet)`,
        },
        {
            content: "the fleet's denial shows in the list without a reload",
            trigger: `${rowOf("Sam Ortiz")} td[name=fleet_display_status]:contains(Denied)`,
            timeout: 30000,
        },
    ],
});
