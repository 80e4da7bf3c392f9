import { registry } from "@web/core/registry";

// The provider charts a session with each client's treatment-plan goals beside their note,
// records progress on one goal per client, closes and reopens the page, reviews and signs.
const row = (client) => `.modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(${client})`;
const goal = (client, text) => `${row(client)} .o_therapy_goal:contains(${text})`;

function rate(client, text, label) {
    return [
        // Leaving the group note's editor saves the draft at once: the rating is picked while
        // that save (and the onchange of the note it commits) is in flight.
        { trigger: `${goal(client, text)} .o_therapy_goal_comment input`, run: "click" },
        { trigger: `${goal(client, text)} .o_therapy_goal_rating .o_select_menu_toggler`, run: "click" },
        { trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`, run: "click" },
        { trigger: `body:not(:has(.o_select_menu_menu))` },
        rated(client, text, label),
    ];
}

/** Waits until the goal shows the rating: a pick reaches the page once what the page was
 * already doing is done (the onchange of the note just left, the draft save taking the
 * changes), which takes a while on a loaded machine. A pick that is lost never shows. */
function rated(client, text, label) {
    return { trigger: `${goal(client, text)} .o_therapy_goal_rating input:value(${label})` };
}

registry.category("web_tour.tours").add("group_therapy_goals_tour", {
    steps: () => [
        { trigger: "button[name=action_open_charting]", run: "click" },
        // Each client's active goals beside their own note, and only theirs.
        { trigger: goal("Client 01", "coping skills") },
        { trigger: `${row("Client 01")}:not(:has(.o_therapy_goal:contains(Logs cravings)))` },
        { trigger: `${row("Client 01")}:not(:has(.o_therapy_goal:contains(Names three triggers)))` },
        { trigger: goal("Client 02", "Logs cravings") },
        { trigger: `${row("Client 02")}:not(:has(.o_therapy_goal:contains(coping skills)))` },
        { trigger: `${row("Client 04")}:contains(No active goal)` },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised grounding skills.",
        },
        ...rate("Client 01", "coping skills", "Progressing"),
        {
            trigger: `${goal("Client 01", "coping skills")} .o_therapy_goal_comment input`,
            run: "edit Used box breathing twice",
        },
        ...rate("Client 02", "Logs cravings", "No change"),
        // Closed before Review: the progress is kept with the drafts, Chart brings it back.
        { trigger: ".modal .modal-header .btn-close", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { trigger: "button[name=action_open_charting]", run: "click" },
        { trigger: `${goal("Client 01", "coping skills")} .o_therapy_goal_comment input:value(Used box breathing twice)` },
        rated("Client 01", "coping skills", "Progressing"),
        rated("Client 02", "Logs cravings", "No change"),
        { trigger: ".modal button[name=action_review]", run: "click" },
        // In review, each note carries its own client's progress only.
        { trigger: ".modal .o_kanban_record:contains(Client 01):contains(Treatment plan progress):contains(box breathing)" },
        { trigger: ".modal .o_kanban_record:contains(Client 02):contains(Logs cravings):not(:contains(coping skills))" },
        { trigger: ".modal .o_kanban_record:contains(Client 04):not(:contains(Treatment plan progress))" },
        { trigger: ".modal button[name=action_sign]", run: "click" },
        { trigger: ".modal-footer button.btn-primary:contains(Ok)", run: "click" },
        { trigger: ".modal [name=password] input", run: "edit gt_provider" },
        { trigger: ".modal button:contains(Confirm Password)", run: "click" },
        { trigger: ".o_notification:contains(signed and locked)" },
    ],
});
