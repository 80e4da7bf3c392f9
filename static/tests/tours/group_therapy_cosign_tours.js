import { registry } from "@web/core/registry";

// Supervisor co-signature, walked as the pre-licensed provider and their supervisor do it.

// The intern charts the session and signs: the notes wait for the supervisor.
registry.category("web_tour.tours").add("group_therapy_cosign_intern_tour", {
    steps: () => [
        { trigger: "button[name=action_open_charting]", run: "click" },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised grounding skills; each client named one trigger.",
        },
        { trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable:contains(grounding skills)" },
        { trigger: ".modal button[name=action_review]", run: "click" },
        { trigger: ".modal .o_kanban_record:contains(Client 01):contains(grounding skills)" },
        { trigger: ".modal button[name=action_sign]", run: "click" },
        { trigger: ".modal-footer button.btn-primary:contains(Ok)", run: "click" },
        // Signing asks for the intern's password again (Odoo's identity check).
        { trigger: ".modal [name=password] input", run: "edit gt_provider" },
        { trigger: ".modal button:contains(Confirm Password)", run: "click" },
        { trigger: ".o_therapy_sign_progress.o_therapy_sign_done:contains(waiting for Supervisor Sue's co-signature)" },
        { trigger: ".o_notification:contains(wait for Supervisor Sue's co-signature)" },
        { trigger: "button[name=action_open_chart_notes]", run: "click" },
        {
            trigger:
                ".o_list_view:has(.o_data_cell[name=signed_by_id]) .o_data_row:contains(Client 01) .o_data_cell[name=session_start]",
            run: "click",
        },
        { trigger: ".o_form_view .ribbon:contains(To co-sign)" },
        { trigger: ".o_form_view .o_field_widget[name=cosign_supervisor_id]:contains(Supervisor Sue)" },
        // Only the supervisor co-signs: the intern has no such button.
        { trigger: ".o_form_view:not(:has(button[name=action_cosign]))" },
    ],
});

// The supervisor opens To Co-sign, reviews a note, then co-signs them all at once.
registry.category("web_tour.tours").add("group_therapy_cosign_supervisor_tour", {
    steps: () => [
        { trigger: ".o_list_view .o_data_row:contains(Client 04)" },
        {
            trigger: ".o_list_view .o_data_row:contains(Client 01) .o_data_cell[name=partner_id]",
            run: "click",
        },
        { trigger: ".o_form_view .o_field_widget[name=body]:contains(grounding skills)" },
        { trigger: ".o_form_view .ribbon:contains(To co-sign)" },
        { trigger: ".o_form_view button[name=action_cosign]" },
        { trigger: ".o_form_view button[name=action_open_return]" },
        { trigger: ".o_breadcrumb a:contains(To Co-sign)", run: "click" },
        { trigger: ".o_list_view thead .o_list_record_selector input", run: "click" },
        { trigger: ".o_control_panel button[name=action_cosign]", run: "click" },
        { trigger: ".modal-footer button.btn-primary:contains(Ok)", run: "click" },
        // Co-signing asks for the supervisor's password again, every time.
        { trigger: ".modal [name=password] input", run: "edit gt_supervisor" },
        { trigger: ".modal button:contains(Confirm Password)", run: "click" },
        { trigger: ".o_notification:contains(3 chart notes co-signed and locked)" },
    ],
});
