import { onWillUnmount, reactive, useComponent } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { ConnectionLostError } from "@web/core/network/rpc";
import { debounce } from "@web/core/utils/timing";

/** Typing stopped this long (ms): what was typed is kept as drafts. */
export const AUTOSAVE_DELAY = 3000;
/** The connection is lost: try again this long (ms) later, without waiting for typing. */
export const AUTOSAVE_RETRY_DELAY = 15000;

/**
 * Keeps what the provider types, without a request per keystroke: `touch()` on each change
 * saves once typing has paused for `delay`; `flush()` (leaving an editor, hiding the tab) saves
 * at once what is not saved yet. One save runs at a time; what is typed during a save is saved
 * after it. A failed save is told in `state` (never thrown), and retried when the connection
 * comes back or the provider types again.
 *
 * `save` is an async function that keeps the drafts; it throws on failure.
 * `state.status`: "idle" | "unsaved" | "saving" | "saved" | "failed"; `state.savedAt` (Date of
 * the last save), `state.problem` (why the last save failed).
 */
export class DraftAutosave {
    constructor(save, { delay = AUTOSAVE_DELAY, retryDelay = AUTOSAVE_RETRY_DELAY } = {}) {
        this.save = save;
        this.retryDelay = retryDelay;
        this.state = reactive({ status: "idle", savedAt: null, problem: "" });
        this.unsaved = false; // typed since the last save started
        this.running = null; // the save in progress
        this.saving = false; // true from the start of a save (before `running` is set)
        this.retryTimer = null;
        this.debounced = debounce(() => this.flush(), delay);
    }

    /** Whether something typed is not kept yet (saved, being saved or waiting). */
    get pending() {
        return this.unsaved || Boolean(this.running);
    }

    /** Something was typed. */
    touch() {
        this.unsaved = true;
        if (this.state.status !== "failed") {
            this.state.status = "unsaved"; // a failure stays in view until a save succeeds
        }
        this.debounced();
    }

    /** Save now what is not saved yet; resolves once it is saved (or failed). */
    async flush() {
        this.cancel();
        while (this.running) {
            await this.running;
        }
        if (!this.unsaved) {
            return;
        }
        this.unsaved = false;
        this.running = this._save();
        try {
            await this.running;
        } finally {
            this.running = null;
        }
        if (this.unsaved && this.state.status !== "failed") {
            this.debounced(); // typed meanwhile
        }
    }

    /** Wait for the save in progress, and drop the one waiting for typing to pause. */
    async settle() {
        this.cancel();
        while (this.running) {
            await this.running;
        }
    }

    cancel() {
        this.debounced.cancel();
        browser.clearTimeout(this.retryTimer);
    }

    async _save() {
        this.state.status = "saving";
        this.saving = true;
        try {
            await this.save();
            Object.assign(this.state, {
                status: this.unsaved ? "unsaved" : "saved", // typed during the save
                savedAt: new Date(),
                problem: "",
            });
        } catch (error) {
            this.unsaved = true; // still to keep
            const problem = error?.data?.message || error?.message || String(error);
            Object.assign(this.state, { status: "failed", problem });
            if (error instanceof ConnectionLostError) {
                this.retryTimer = browser.setTimeout(() => this.flush(), this.retryDelay);
            }
        } finally {
            this.saving = false;
        }
    }
}

/** A DraftAutosave for the component, stopped when the component goes. */
export function useDraftAutosave(save, options) {
    const component = useComponent();
    const autosave = new DraftAutosave(save.bind(component), options);
    onWillUnmount(() => autosave.cancel());
    return autosave;
}
