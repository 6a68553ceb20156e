/** @odoo-module **/
/**
 * Live fleet decisions: when the fleet's state of jobs is applied on the
 * server (webhook, poll, or any answer of the fleet), Odoo's bus tells every
 * repair user's tabs which jobs changed (repair.order._fleet_tell_browsers,
 * sent once the transaction is committed). An open form, list or kanban
 * showing one of them reads it again, so the new fleet status shows without
 * a reload. The message holds job ids only: each tab reads what its user may
 * see.
 */
import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

export const FLEET_UPDATE = "omega_autointegrate/fleet_update";

/**
 * Calls `reload(repairIds)` when the bus says the fleet's state of jobs
 * changed. A reload asked for while one runs is done once, after it.
 *
 * @param {(repairIds: number[]) => Promise<void>} reload
 */
export function useFleetUpdates(reload) {
    const busService = useService("bus_service");
    let running = null;
    let queued = null;
    const run = async (repairIds) => {
        try {
            await reload(repairIds);
        } finally {
            running = null;
            if (queued) {
                const next = queued;
                queued = null;
                running = run(next);
            }
        }
    };
    const onUpdate = ({ repair_ids: repairIds }) => {
        if (running) {
            queued = [...(queued || []), ...repairIds];
        } else {
            running = run(repairIds);
        }
    };
    // once mounted: the view has its records (the bus may at once hand over what it sent lately)
    onMounted(() => {
        busService.subscribe(FLEET_UPDATE, onUpdate);
        busService.start();
    });
    onWillUnmount(() => busService.unsubscribe(FLEET_UPDATE, onUpdate));
}

/** The controllers of multi-record views read their records again when one of them changed at the fleet. */
function useFleetReload(controller) {
    useFleetUpdates(async (repairIds) => {
        const root = controller.model.root;
        // the loaded records, those of the open groups of a grouped view too
        const shown = new Set(root.records.map((record) => record.resId));
        if (!repairIds.some((id) => shown.has(id)) || root.editedRecord) {
            return;
        }
        await root.load();
    });
}

export class AutoIntegrateRepairListController extends ListController {
    setup() {
        super.setup();
        useFleetReload(this);
    }
}

export class AutoIntegrateRepairKanbanController extends KanbanController {
    setup() {
        super.setup();
        useFleetReload(this);
    }
}

registry.category("views").add("autointegrate_repair_list", {
    ...listView,
    Controller: AutoIntegrateRepairListController,
});

registry.category("views").add("autointegrate_repair_kanban", {
    ...kanbanView,
    Controller: AutoIntegrateRepairKanbanController,
});
