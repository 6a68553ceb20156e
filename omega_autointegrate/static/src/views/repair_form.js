/** @odoo-module **/
/**
 * The repair form's save control reads SAVE AND SEND TO FLEET while the job
 * has to go back to the fleet: it saves, then resubmits the RO. A job that
 * was not edited is not dirty: it shows the control alone, without the
 * discard button of pending changes. The form shows the fleet's decisions
 * as they come (fleet_live.js).
 */
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { pick } from "@web/core/utils/objects";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { FormStatusIndicator } from "@web/views/form/form_status_indicator/form_status_indicator";
import { useFleetUpdates } from "./fleet_live";

export class FleetStatusIndicator extends FormStatusIndicator {
    static template = "omega_autointegrate.FleetStatusIndicator";

    get fleetResubmit() {
        // computed on the server (a sent, open RO that has to go back to the fleet), and
        // again by the form's onchange as soon as the job's vehicle, complaint or lines are edited; the view
        // leaves the field out for users without the AutoIntegrate right, who save as in any job
        const record = this.props.model.root;
        return !record.isNew && Boolean(record.data.fleet_needs_resubmit);
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
        this.notification = useService("notification");
        useFleetUpdates((repairIds) => this.onFleetUpdate(repairIds));
    }

    /** The fleet's state of jobs changed: show this job's, unless the user is editing it. */
    async onFleetUpdate(repairIds) {
        const record = this.model.root;
        if (record.isNew || !repairIds.includes(record.resId)) {
            return;
        }
        if (await record.isDirty()) {
            this.notification.add(_t("The fleet's decision on this job changed: save or discard your changes to see it."), {
                type: "info",
            });
            return;
        }
        await record.load();
    }
}

registry.category("views").add("autointegrate_repair_form", {
    ...formView,
    Controller: AutoIntegrateRepairFormController,
});
