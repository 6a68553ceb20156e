/** @odoo-module **/
/**
 * The repair form's save control reads SAVE AND SEND TO FLEET while the job
 * has to go back to the fleet: it saves, then resubmits the RO.
 */
import { useSubEnv } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { pick } from "@web/core/utils/objects";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { FormStatusIndicator } from "@web/views/form/form_status_indicator/form_status_indicator";

const CLOSED = ["completed", "cancelled"];

export class FleetStatusIndicator extends FormStatusIndicator {
    static template = "omega_autointegrate.FleetStatusIndicator";

    get fleetResubmit() {
        const record = this.props.model.root;
        const data = record.data;
        if (record.isNew || !data.fleet_ro_id || CLOSED.includes(data.fleet_status)) {
            return false;
        }
        if (data.fleet_needs_resubmit) {
            return true;
        }
        const changes = record._changes || {};
        return record.dirty && this.env.fleetROFields.some((name) => name in changes);
    }

    /**
     * Runs like a header button of the form: the controller saves the job
     * first (and stops when it cannot), then the server resubmits it; the
     * returned notification soft-reloads the view, which destroys this
     * component, so nothing here may touch the record afterwards.
     */
    async saveAndSend() {
        const record = this.props.model.root;
        await this.env.onClickViewButton({
            clickParams: { type: "object", name: "action_fleet_save_and_send" },
            getResParams: () => pick(record, "context", "evalContext", "resModel", "resId", "resIds"),
        });
    }
}

export class AutoIntegrateRepairFormController extends FormController {
    static components = { ...FormController.components, FormStatusIndicator: FleetStatusIndicator };

    setup() {
        super.setup();
        // the fields of the job that the fleet's RO is made of, as the server lists them
        // on the form (repair.order._get_view, from FORM_RO_FIELDS)
        const names = this.archInfo.xmlDoc.getAttribute("fleet_ro_fields");
        useSubEnv({ fleetROFields: names ? names.split(",") : [] });
    }
}

registry.category("views").add("autointegrate_repair_form", {
    ...formView,
    Controller: AutoIntegrateRepairFormController,
});
