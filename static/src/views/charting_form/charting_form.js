import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";

/**
 * The group charting dialog. Closing it (the X, Escape) before Review keeps every word: the
 * page is saved and the server writes the session's drafts, which Chart brings back. Signing
 * shows its progress (see sign_progress.js).
 */
export class ChartingFormController extends FormController {
    setup() {
        super.setup();
        this.signProgress = useService("group_therapy_sign_progress");
        if (this.env.inDialog) {
            this.env.dialogData.dismiss = () => this.keepDrafts();
        }
    }

    async keepDrafts() {
        const record = this.model.root;
        if (record.data.step !== "write") {
            return; // at Review the drafts are already written
        }
        if (await record.save({ reload: false })) {
            await this.orm.call(record.resModel, "action_keep_drafts", [[record.resId]]);
        }
    }

    async beforeUnload(ev) {
        // Leaving the page (reload, tab closed) does not close the dialog: ask first.
        if (this.model.root.data.step === "write" && this.model.root.dirty) {
            ev.preventDefault();
            ev.returnValue = "";
        }
        return super.beforeUnload(ev);
    }

    async beforeExecuteActionButton(clickParams) {
        const saved = await super.beforeExecuteActionButton(clickParams);
        if (clickParams.name === "action_sign" && saved !== false) {
            const record = this.model.root;
            this.signProgress.arm(record.resId, record.data.note_ids.count);
        }
        return saved;
    }
}

registry.category("views").add("therapy_charting_form", {
    ...formView,
    Controller: ChartingFormController,
});
