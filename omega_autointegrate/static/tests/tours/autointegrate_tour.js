/** @odoo-module **/
/**
 * The shop's whole story with a fleet, in the browser. The fleet decides in
 * the simulator, outside the browser: the Python test (tests/test_tour.py)
 * runs these tours one after the other and makes the fleet decide between
 * them.
 */
import { queryAll } from "@odoo/hoot-dom";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const ACCOUNT = "Enterprise Fleet Management";
export const REQUEST_NOTE = "Customer waits in the lobby: please approve today";
const LINE_NOTE = "1.5 h includes the ADAS camera recalibration";
const FLEET_LINE_NOTE = "Rate card allows 1.0 h for this glass";
export const DENIAL = "Labor exceeds 1.0 h rate card";
export const LABOR = "Install windshield";
export const GLASS = "Windshield FW05432 GTY";
const WALK_IN = "Walk-in Customer";
const LABOR_CHANGED = "Install windshield and moulding";

const tours = registry.category("web_tour.tours");

/** The job's fleet status badge, above its title (not the lines' badges). */
export const JOB_BADGE = ".o_form_sheet > .o_field_widget[name=fleet_status] .badge";
export const MODAL = ".modal:not(.o_inactive_modal)";
/** The labour row of the job's lines (by product) or of the dialog's (by description). */
export const laborRow = (list, column = "product_id") => `${list} .o_data_row:has(td[name=${column}]:contains(${LABOR}))`;
/** The glass row of the job's lines (by product) or of the dialog's (by description). */
export const glassRow = (list, column = "product_id") => `${list} .o_data_row:has(td[name=${column}]:contains(${GLASS}))`;
/** The save control of a job that holds no unsaved change: SAVE AND SEND TO FLEET alone, no discard. */
export const UNTOUCHED_RESUBMIT =
    ".o_form_status_indicator:has(button.o_fleet_save_and_send):has(.o_form_status_indicator_buttons.invisible)";

export function editField(name, value, scope = ".o_form_view") {
    return {
        content: `${name}: ${value}`,
        trigger: `${scope} .o_field_widget[name=${name}] input`,
        run: `edit ${value}`,
    };
}

function pickMany2one(scope, name, search, label) {
    return [
        {
            content: `${name}: search ${search}`,
            trigger: `${scope} .o_field_widget[name=${name}] input`,
            run: `edit ${search}`,
        },
        {
            content: `${name}: pick ${label}`,
            trigger: `.o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item a:contains(${label})`,
            run: "click",
        },
        {
            content: `${name} is ${label}`,
            trigger: `${scope} .o_field_widget[name=${name}] input:value(${label})`,
        },
    ];
}

function save() {
    return [
        { content: "save", trigger: ".o_form_button_save", run: "click" },
        {
            content: "saved",
            trigger: ".o_form_view .o_form_status_indicator:not(:has(.o_form_status_indicator_buttons:not(.invisible)))",
        },
    ];
}

export function closeDialog() {
    return [
        { content: "close the dialog", trigger: `${MODAL} .modal-footer button:contains(Close)`, run: "click" },
        { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
    ];
}

function openJob() {
    return [
        {
            content: "open the job of the fleet account",
            trigger: `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${ACCOUNT})) td[name=name]`,
            run: "click",
        },
        { content: "the job's form", trigger: ".o_form_view .o_field_widget[name=fleet_status]" },
    ];
}

/** Fails the tour when `texts` of the cells `selector` miss `expected` or show `unexpected`. */
export function checkTexts(selector, expected, unexpected = []) {
    return function () {
        const texts = queryAll(selector).map((el) => el.textContent.trim());
        for (const text of expected) {
            if (!texts.some((t) => t.includes(text))) {
                throw new Error(`"${text}" is not shown in ${selector}: ${JSON.stringify(texts)}`);
            }
        }
        for (const text of unexpected) {
            if (texts.some((t) => t.includes(text))) {
                throw new Error(`"${text}" should not be shown in ${selector}: ${JSON.stringify(texts)}`);
            }
        }
    };
}

// A: the account is set up, the job is written and sent to the fleet
/** The save control reads SAVE AND SEND TO FLEET (the plain save is gone): click it. */
function saveAndSendToFleet() {
    return [
        {
            content: "the save control reads SAVE AND SEND TO FLEET",
            trigger: ".o_form_status_indicator button.o_fleet_save_and_send:contains(Save and Send to Fleet)",
        },
        { content: "and the plain save is gone", trigger: ".o_form_status_indicator:not(:has(.o_form_button_save))" },
        {
            content: "SAVE AND SEND TO FLEET",
            trigger: ".o_form_status_indicator button.o_fleet_save_and_send",
            run: "click",
        },
        { content: "awaiting the fleet again", trigger: `${JOB_BADGE}:contains(Awaiting fleet)` },
    ];
}

tours.add("autointegrate_tour_send", {
    url: "/web#action=base.action_partner_form",
    steps: () => [
        { content: "new contact", trigger: ".o_control_panel_main_buttons button.o-kanban-button-new", run: "click" },
        {
            content: "a company",
            trigger: ".o_field_widget[name=company_type] input[data-value=company]",
            run: "click",
        },
        {
            content: "its name",
            trigger: ".o_field_widget[name=name] input",
            run: `edit ${ACCOUNT}`,
        },
        { content: "Sales & Purchase tab", trigger: ".o_notebook a[name=sales_purchases]", run: "click" },
        {
            content: "Invoice Method: AutoIntegrate",
            trigger: ".o_field_widget[name=fleet_invoice_method] select",
            run: "selectByLabel AutoIntegrate",
        },
        editField("fleet_company_code", "ENT-0042"),
        ...save(),
        { content: "the account is saved", trigger: `.o_breadcrumb .active:contains(${ACCOUNT})` },

        ...stepUtils.goToAppSteps("repair.menu_repair_order", "Repairs"),
        // a job of a standard account: no Send to Fleet, no Fleet page
        {
            content: "open the walk-in customer's job",
            trigger: `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${WALK_IN})) td[name=name]`,
            run: "click",
        },
        {
            content: "no Send to Fleet on a standard account's job",
            trigger: `.o_form_view:has(.o_field_widget[name=partner_id]:contains(${WALK_IN})) .o_statusbar_buttons:not(:has(button[name=action_send_to_fleet]))`,
        },
        {
            content: "nor a Fleet page",
            trigger: `.o_form_view:has(.o_field_widget[name=partner_id]:contains(${WALK_IN})) .o_notebook:not(:has(a[name=fleet]))`,
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        { content: "new job", trigger: ".o_control_panel_main_buttons .o_list_button_add", run: "click" },
        ...pickMany2one(".o_form_view", "partner_id", "Enterprise Fleet", ACCOUNT),
        // the part
        { content: "Parts tab", trigger: ".o_notebook a[name=parts]", run: "click" },
        {
            content: "add a part",
            trigger: ".o_field_widget[name=move_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickMany2one(".o_field_widget[name=move_ids] .o_selected_row", "product_id", "Windshield FW", GLASS),
        // the vehicle, on the Fleet page the account's jobs have
        { content: "Fleet tab", trigger: ".o_notebook a[name=fleet]", run: "click" },
        editField("fleet_vin", "1FTFW1E50NFA00001"),
        editField("fleet_plate", "7ABC123"),
        editField("fleet_plate_region", "CA"),
        editField("fleet_unit_number", "U-5521"),
        editField("fleet_odometer", "48211"),
        editField("fleet_vehicle_year", "2022"),
        editField("fleet_vehicle_make", "Ford"),
        editField("fleet_vehicle_model", "F-150"),
        {
            content: "complaint",
            trigger: ".o_field_widget[name=fleet_complaint] textarea",
            run: "edit Windshield cracked across driver view",
        },
        ...save(),
        // labour goes on the job's quotation
        { content: "create the quotation", trigger: "button[name=action_create_sale_order]", run: "click" },
        { content: "the quotation", trigger: ".o_form_view .o_field_widget[name=order_line]" },
        {
            content: "add a product",
            trigger: ".o_field_widget[name=order_line] .o_field_x2many_list_row_add a:contains(Add a product)",
            run: "click",
        },
        ...pickMany2one(".o_field_widget[name=order_line] .o_selected_row", "product_template_id", LABOR, LABOR),
        {
            content: "labour price is set",
            trigger: ".o_field_widget[name=order_line] .o_selected_row .o_field_widget[name=price_unit] input:value(95.00)",
        },
        editField("product_uom_qty", "1.5", ".o_field_widget[name=order_line] .o_selected_row"),
        ...save(),
        { content: "back to the job", trigger: ".o_breadcrumb .breadcrumb-item a:contains(/RO/)", run: "click" },
        // SEND TO FLEET
        { content: "Send to Fleet", trigger: ".o_statusbar_buttons button[name=action_send_to_fleet]", run: "click" },
        {
            content: "the dialog shows what is sent",
            trigger: `${MODAL} .o_field_widget[name=fleet_company_code]:contains(ENT-0042)`,
        },
        {
            content: "the vehicle",
            trigger: `${MODAL} .o_field_widget[name=vehicle]:contains(1FTFW1E50NFA00001):contains(2022 · Ford · F-150)`,
        },
        {
            content: "the labour line and its amount",
            trigger: `${laborRow(MODAL, "description")} td[name=amount]:contains(142.50)`,
        },
        { content: "the glass line", trigger: `${glassRow(MODAL, "description")} td[name=amount]:contains(412.00)` },
        { content: "the total", trigger: `${MODAL} .o_field_widget[name=amount_total]:contains(554.50)` },
        {
            content: "request note",
            trigger: `${MODAL} .o_field_text[name=note] textarea`,
            run: `edit ${REQUEST_NOTE}`,
        },
        {
            content: "note on the labour line",
            trigger: `${laborRow(MODAL, "description")} td[name=note]`,
            run: "click",
        },
        {
            content: "type the line note",
            trigger: `${MODAL} .o_data_row.o_selected_row .o_field_widget[name=note] input`,
            run: `edit ${LINE_NOTE}`,
        },
        { content: "Submit Repair Order", trigger: `${MODAL} button[name=action_submit]`, run: "click" },
        { content: "the dialog is closed", trigger: "body:not(:has(.modal))" },
        { content: "awaiting the fleet", trigger: `${JOB_BADGE}:contains(Awaiting fleet)` },
        { content: "Fleet tab", trigger: ".o_notebook a[name=fleet]", run: "click" },
        {
            content: "the fleet's RO number is shown",
            trigger: ".o_form_view .o_field_widget[name=fleet_ro_id]:contains(AI-)",
        },
        { content: "at revision 1", trigger: ".o_form_view .o_field_widget[name=fleet_revision]:contains(1)" },
        {
            content: "the vehicle in the job's header",
            trigger: ".o_form_view [name=fleet_vehicle_title]:contains(2022 Ford F-150 · 7ABC123)",
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        {
            content: "the vehicle in the jobs' list",
            trigger: `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${ACCOUNT})) td[name=fleet_vehicle]:contains(2022 Ford F-150 · 7ABC123)`,
        },
    ],
});

// B: the fleet denied the labour; read why, fix it, SAVE AND SEND TO FLEET
tours.add("autointegrate_tour_resubmit", {
    url: "/web#action=repair.action_repair_order_tree",
    steps: () => [
        ...openJob(),
        { content: "Send to Fleet reads the fleet", trigger: "button[name=action_send_to_fleet]", run: "click" },
        {
            content: "the labour line is denied, with the fleet's reason",
            trigger: `${laborRow(MODAL, "description")} td[name=fleet_reason]:contains(${DENIAL})`,
        },
        {
            content: "the glass line is approved",
            trigger: `${glassRow(MODAL, "description")} td[name=fleet_status]:contains(Approved)`,
        },
        {
            content: "the fleet's status",
            trigger: `${MODAL} .o_field_widget[name=fleet_status] .badge:contains(Partially approved)`,
        },
        ...closeDialog(),
        { content: "the job shows the fleet's status", trigger: `${JOB_BADGE}:contains(Partially approved)` },
        {
            content: "the job was not edited: SAVE AND SEND TO FLEET, no discard",
            trigger: `.o_form_view:has(${JOB_BADGE}:contains(Partially approved)) ${UNTOUCHED_RESUBMIT}`,
        },
        // FLEET COMMUNICATION of the job: every note
        {
            content: "Fleet Communication",
            trigger: ".oe_stat_button[name=action_fleet_communication]",
            run: "click",
        },
        {
            content: "the job's notes, line notes included",
            trigger: `${MODAL} .o_field_widget[name=note_ids] td[name=text]:contains(${FLEET_LINE_NOTE})`,
            run: checkTexts(`${MODAL} .o_field_widget[name=note_ids] td[name=text]`, [
                REQUEST_NOTE,
                LINE_NOTE,
                FLEET_LINE_NOTE,
                DENIAL,
            ]),
        },
        {
            content: "the fleet's reason, with its line",
            trigger: `${MODAL} .o_data_row:has(td[name=text]:contains(${DENIAL})):has(td[name=decision]:contains(Denied)) td[name=line_label]:contains(${LABOR})`,
        },
        {
            content: "line notes name their line",
            trigger: `${MODAL} .o_data_row:has(td[name=text]:contains(${FLEET_LINE_NOTE})) td[name=line_label]:contains(${LABOR})`,
        },
        ...closeDialog(),
        // FLEET COMMUNICATION of the labour line: its notes only
        { content: "Fleet tab", trigger: ".o_notebook a[name=fleet]", run: "click" },
        {
            content: "the labour line's comments",
            trigger: `${laborRow(".o_field_widget[name=fleet_line_ids]")} button[name=action_fleet_communication]:contains(Fleet Communication)`,
            run: "click",
        },
        {
            content: "only the labour line's notes and reasons",
            trigger: `${MODAL} .o_field_widget[name=note_ids] td[name=text]:contains(${FLEET_LINE_NOTE})`,
            run: checkTexts(
                `${MODAL} .o_field_widget[name=note_ids] td[name=text]`,
                [LINE_NOTE, FLEET_LINE_NOTE, DENIAL],
                [REQUEST_NOTE]
            ),
        },
        { content: "titled with the line", trigger: `${MODAL} .modal-title:contains(${LABOR})` },
        ...closeDialog(),
        // fix the labour: 1.0 h
        {
            content: "edit the labour quantity",
            trigger: `${laborRow(".o_field_widget[name=fleet_line_ids]")} td[name=product_uom_qty]`,
            run: "click",
        },
        editField("product_uom_qty", "1.0", ".o_field_widget[name=fleet_line_ids] .o_selected_row"),
        ...saveAndSendToFleet(),
        { content: "revision 2", trigger: ".o_field_widget[name=fleet_revision]:contains(2)" },
        {
            content: "the control is gone, the form is saved",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send)):has(.o_form_button_save)",
        },
        {
            content: "the labour line is awaiting the fleet, at 1.0",
            trigger: `${laborRow(".o_field_widget[name=fleet_line_ids]")} td[name=fleet_status]:contains(Awaiting fleet)`,
            run: checkTexts(`${laborRow(".o_field_widget[name=fleet_line_ids]")} td[name=product_uom_qty]`, ["1.000"]),
        },
    ],
});

const JOB_ROW = `.o_list_view .o_data_row:has(td[name=partner_id]:contains(${ACCOUNT}))`;

/** Select the job of `row` in the list, Action > Invoice, YES. */
export function invoiceFromList(row = JOB_ROW) {
    return [
        { content: "select the job", trigger: `${row} .o_list_record_selector input`, run: "click" },
        { content: "Actions", trigger: ".o_control_panel .o_cp_action_menus button:has(.fa-cog)", run: "click" },
        { content: "Invoice", trigger: ".o-dropdown--menu .o-dropdown-item:contains(/^\\s*Invoice\\s*$/)", run: "click" },
        { content: "YES", trigger: `${MODAL} .modal-footer button.btn-primary:contains(/^\\s*yes\\s*$/)`, run: "click" },
    ];
}

// D: the fleet approved everything; a change to the approved RO goes back to the fleet, and
// until the fleet approves it again the job cannot be invoiced
tours.add("autointegrate_tour_reapproval", {
    url: "/web#action=repair.action_repair_order_tree",
    steps: () => [
        ...openJob(),
        { content: "the job is approved", trigger: `${JOB_BADGE}:contains(/^\\s*Approved\\s*$/)` },
        {
            content: "nothing to send",
            trigger: ".o_form_status_indicator:not(:has(.o_fleet_save_and_send))",
        },
        { content: "Fleet tab", trigger: ".o_notebook a[name=fleet]", run: "click" },
        {
            content: "edit the labour description",
            trigger: `${laborRow(".o_field_widget[name=fleet_line_ids]")} td[name=name]`,
            run: "click",
        },
        {
            content: `description: ${LABOR_CHANGED}`,
            trigger: ".o_field_widget[name=fleet_line_ids] .o_selected_row .o_field_widget[name=name] textarea",
            run: `edit ${LABOR_CHANGED}`,
        },
        // the field keeps the text until it is left (as a user moves on)
        { content: "leave the field", trigger: ".o_form_view .o_form_label:contains(Complaint)", run: "click" },
        // the approved RO changed
        ...saveAndSendToFleet(),
        { content: "revision 3", trigger: ".o_field_widget[name=fleet_revision]:contains(3)" },
        {
            content: "the changed labour line awaits the fleet",
            trigger: `${laborRow(".o_field_widget[name=fleet_line_ids]")} td[name=fleet_status]:contains(Awaiting fleet)`,
        },
        {
            content: "the glass line keeps its approval",
            trigger: `${glassRow(".o_field_widget[name=fleet_line_ids]")} td[name=fleet_status]:contains(Approved)`,
        },
        { content: "back to the jobs", trigger: ".o_breadcrumb .breadcrumb-item:first-child a", run: "click" },
        // unapproved work is not invoiced
        {
            content: "the job awaits the fleet",
            trigger: `${JOB_ROW} td[name=fleet_display_status]:contains(Awaiting fleet)`,
        },
        ...invoiceFromList(),
        {
            content: "refused: the fleet has not approved it",
            trigger: ".o_notification:contains(The fleet has not approved):contains(it cannot be invoiced)",
        },
        { content: "the Invoice dialog is closed", trigger: "body:not(:has(.modal))" },
        {
            content: "still awaiting the fleet",
            trigger: `${JOB_ROW} td[name=fleet_display_status]:contains(Awaiting fleet)`,
        },
        {
            content: "dismiss the message",
            trigger: ".o_notification:contains(The fleet has not approved) .o_notification_close",
            run: "click",
        },
    ],
});

// C: the fleet approved everything: invoice the job from the list
tours.add("autointegrate_tour_invoice", {
    url: "/web#action=repair.action_repair_order_tree",
    steps: () => [
        {
            content: "the job is approved",
            trigger: `${JOB_ROW} td[name=fleet_display_status]:contains(/^\\s*Approved\\s*$/)`,
        },
        ...invoiceFromList(),
        { content: "the invoice opens", trigger: ".o_form_view .o_field_widget[name=invoice_line_ids]" },
        { content: "posted", trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Posted)" },
        // sent to the fleet once the posting is committed (a test server runs no post-commit work: the
        // test's cron sends it, then checks the fleet's approval)
        { content: "to send to the fleet", trigger: ".o_form_view .o_form_sheet .badge:contains(To send to the fleet)" },
        {
            content: "with the fleet's authorization number",
            trigger: ".o_form_view .o_form_sheet .o_field_widget:contains(/AUTH-\\d{6}/)",
        },
    ],
});
