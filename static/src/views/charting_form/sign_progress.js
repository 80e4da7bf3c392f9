import { Component, reactive } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { rpcBus } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

/**
 * Signing a session's notes shows its progress: while the server signs and locks N notes, a
 * blocking overlay says so and the browser warns before leaving the page; then it says that
 * they are signed (and, for a pre-licensed provider, that they wait for the supervisor).
 *
 * The Sign button keeps Odoo's identity check: the notes are signed by the password dialog's
 * "Confirm Password" (res.users.identitycheck.run_check), which runs the wizard's signing. The
 * charting form arms this service with the wizard and its note count; the service follows the
 * identity check that the Sign button opened, and shows the overlay while that one runs.
 */
const DONE_DELAY = 2500; // how long "signed and locked" stays, in ms

export class SignProgressOverlay extends Component {
    static props = { state: Object };
    static template = "group_therapy.SignProgressOverlay";
}

export const signProgressService = {
    start() {
        const state = reactive({ phase: false, title: "" });
        registry.category("main_components").add("group_therapy.SignProgressOverlay", {
            Component: SignProgressOverlay,
            props: { state },
        });
        let armed = null; // { wizardId, count, identityCheckId, requestId }
        let doneTimer = null;

        const warnBeforeLeaving = (ev) => {
            ev.preventDefault();
            ev.returnValue = "";
        };
        function callOf(data) {
            const { model, method, args } = data.params || {};
            return { model, method, ids: Array.isArray(args?.[0]) ? args[0] : [] };
        }

        rpcBus.addEventListener("RPC:REQUEST", ({ detail: { data } }) => {
            const call = callOf(data);
            if (
                armed?.identityCheckId &&
                call.model === "res.users.identitycheck" &&
                call.method === "run_check" &&
                call.ids.includes(armed.identityCheckId)
            ) {
                armed.requestId = data.id;
                clearTimeout(doneTimer);
                Object.assign(state, {
                    phase: "signing",
                    title: _t("Signing %(count)s notes", { count: armed.count }),
                });
                window.addEventListener("beforeunload", warnBeforeLeaving);
            }
        });
        rpcBus.addEventListener("RPC:RESPONSE", ({ detail: { data, result, error } }) => {
            const call = callOf(data);
            if (
                armed &&
                call.model === "therapy.charting.wizard" &&
                call.method === "action_sign" &&
                call.ids.includes(armed.wizardId)
            ) {
                armed.identityCheckId =
                    result?.res_model === "res.users.identitycheck" ? result.res_id : false;
            } else if (armed?.requestId && armed.requestId === data.id) {
                window.removeEventListener("beforeunload", warnBeforeLeaving);
                armed.requestId = false;
                if (error) {
                    // A wrong password or a refusal: Odoo shows why; signing can be retried.
                    Object.assign(state, { phase: false, title: "" });
                    return;
                }
                // A pre-licensed provider's notes are signed, not final: they wait for the
                // supervisor the server names.
                const supervisor = result?.params?.therapy_cosign_supervisor;
                Object.assign(state, {
                    phase: "done",
                    title: supervisor
                        ? _t("%(count)s notes signed, waiting for %(supervisor)s's co-signature", {
                              count: armed.count,
                              supervisor,
                          })
                        : _t("%(count)s notes signed and locked", { count: armed.count }),
                });
                armed = null;
                doneTimer = setTimeout(
                    () => Object.assign(state, { phase: false, title: "" }),
                    DONE_DELAY
                );
            }
        });

        return {
            /** The Sign button of a charting wizard was clicked: follow its identity check. */
            arm(wizardId, count) {
                armed = { wizardId, count, identityCheckId: false, requestId: false };
            },
        };
    },
};

registry.category("services").add("group_therapy_sign_progress", signProgressService);
