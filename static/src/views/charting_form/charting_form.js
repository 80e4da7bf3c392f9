import { useEffect, useSubEnv } from "@odoo/owl";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useBus, useService } from "@web/core/utils/hooks";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { useDraftAutosave } from "./draft_autosave";

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
 * The group charting dialog. What is typed is kept as the session's drafts while the provider
 * writes (a few seconds after typing stops, on leaving an editor, when the tab is hidden), so a
 * browser crash or a lost connection loses nothing; closing it (the X, Escape) before Review
 * keeps it too. Chart brings the drafts back. Signing shows its progress (see sign_progress.js).
 */
export class ChartingFormController extends FormController {
    setup() {
        super.setup();
        this.signProgress = useService("group_therapy_sign_progress");
        if (this.env.inDialog) {
            this.env.dialogData.dismiss = () => this.keepDrafts();
        }
        this.draftAutosave = useDraftAutosave(this.autosaveDrafts);
        useSubEnv({ therapyDraftAutosave: this.draftAutosave });
        // The editors say so on every change they hold (before committing it to the page).
        useBus(this.model.bus, "FIELD_IS_DIRTY", ({ detail: dirty }) => {
            if (dirty && this.isWriting) {
                this.draftAutosave.touch();
            }
        });
        useEffect(
            (el) => {
                if (!el) {
                    return;
                }
                const onFocusOut = (ev) => {
                    if (this.isWriting && ev.target.closest?.(".odoo-editor-editable")) {
                        this.draftAutosave.flush();
                    }
                };
                el.addEventListener("focusout", onFocusOut);
                return () => el.removeEventListener("focusout", onFocusOut);
            },
            () => [this.rootRef.el]
        );
    }

    get modelParams() {
        const params = super.modelParams;
        // A choice made on the page (a goal's progress, the template) is kept like typing.
        // Saving itself commits the editors' text into the page: that is not a new change (a
        // choice made while a save is in flight is found by autosaveDrafts after it).
        params.hooks.onRecordChanged = () => {
            if (this.draftAutosave && !this.draftAutosave.saving && this.isWriting) {
                this.draftAutosave.touch();
            }
        };
        return params;
    }

    get isWriting() {
        return this.model.root.data.step === "write";
    }

    /** The page is saved, then the server writes the session's drafts from it. */
    async autosaveDrafts() {
        const record = this.model.root;
        if (!this.isWriting) {
            return;
        }
        if (!record.data.template_id) {
            throw new Error(_t("choose a Chart Entry Style."));
        }
        if (!record.isValid) {
            throw new Error(_t("some fields are not filled in as they should (in red)."));
        }
        // Every change since the page opened is sent as it stands, and the page keeps them
        // (Review and Close send them again). The page's own save would forget the lines'
        // changes it had sent, and a change made to a line while it was in flight (a goal's
        // progress after its comment) would then never reach the server.
        const changes = await record.getChanges();
        const kwargs = { context: record.context };
        await this.orm.silent.webSave(record.resModel, [record.resId], changes, {
            ...kwargs,
            specification: {},
        });
        await this.orm.silent.call(record.resModel, "action_autosave_drafts", [[record.resId]], kwargs);
        // A choice made while this save was in flight (a goal's progress) reached the page
        // after its changes were taken, and is not counted as a change during a save (see
        // modelParams): unless it is saved next, the page would say "Draft saved" without it,
        // and a crash or a closed tab would lose it.
        if (JSON.stringify(await record.getChanges()) !== JSON.stringify(changes)) {
            this.draftAutosave.touch();
        }
    }

    beforeVisibilityChange() {
        if (document.visibilityState === "hidden" && this.isWriting) {
            this.draftAutosave.flush(); // the tab may never come back (phone, crash)
            return;
        }
        return super.beforeVisibilityChange();
    }

    async keepDrafts() {
        const record = this.model.root;
        await this.draftAutosave.settle();
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
        if (this.isWriting && this.draftAutosave.pending) {
            ev.preventDefault();
            ev.returnValue = "";
        }
        return super.beforeUnload(ev);
    }

    async beforeExecuteActionButton(clickParams) {
        await this.draftAutosave.settle(); // Review and Close write the drafts themselves
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
