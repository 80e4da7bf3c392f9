import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";

/** Thrown to keep the charting dialog open when the provider chooses to stay. */
class KeepChartingOpen extends Error {}

registry.category("error_handlers").add(
    "group_therapy.keep_charting_open",
    (env, error, originalError) => {
        if (originalError instanceof KeepChartingOpen) {
            error.unhandledRejectionEvent?.preventDefault();
            return true;
        }
        return false;
    },
    { sequence: 1 }
);

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
        let problem = _t("some fields are not filled in as they should (in red).");
        if (await record.save({ reload: false })) {
            try {
                await this.orm.call(record.resModel, "action_keep_drafts", [[record.resId]]);
                return;
            } catch (error) {
                problem = error.data?.message || error.message;
            }
        }
        // Never lose the text silently (e.g. the session was signed meanwhile): ask.
        const leave = await new Promise((resolve) => {
            this.dialogService.add(
                ConfirmationDialog,
                {
                    title: _t("Your notes could not be kept"),
                    body: _t(
                        "What you wrote could not be kept as drafts: %(problem)s Close anyway and lose it?",
                        { problem }
                    ),
                    confirmLabel: _t("Close and lose it"),
                    confirm: () => resolve(true),
                    cancelLabel: _t("Stay"),
                    cancel: () => resolve(false),
                },
                { onClose: () => resolve(false) }
            );
        });
        if (!leave) {
            throw new KeepChartingOpen();
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
