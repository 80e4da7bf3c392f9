import { registry } from "@web/core/registry";

// The practice's workflow, walked as the front desk and the provider do it. `screenshot:<name>` asks the test for a picture
// of the screen (README material); the pause after it lets the capture finish first.
function screenshot(name, trigger) {
    return [
        { trigger, run: () => console.log(`screenshot:${name}`) },
        { trigger, run: () => new Promise((resolve) => setTimeout(resolve, 600)) },
    ];
}

function pickInMany2one(field, text, item, scope = "") {
    return [
        { trigger: `${scope} .o_field_widget[name=${field}] input`, run: `edit ${text}` },
        { trigger: `.o-autocomplete--dropdown-item:contains(${item})`, run: "click" },
    ];
}

function save() {
    return [
        { trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
    ];
}

registry.category("web_tour.tours").add("group_therapy_group_tour", {
    steps: () => [
        { trigger: ".o_field_widget[name=name] input", run: "edit Grief Support Group" },
        { trigger: ".o_field_widget[name=code] input", run: "edit GSG" },
        ...pickInMany2one("provider_id", "Provider Pat", "Provider Pat"),
        { trigger: ".o_notebook a:contains(Clients)", run: "click" },
        { trigger: ".o_field_widget[name=member_ids] .o_field_x2many_list_row_add a", run: "click" },
        ...pickInMany2one("partner_id", "Client 05", "Client 05", ".o_field_widget[name=member_ids]"),
        ...save(),
        { trigger: ".o_field_widget[name=member_ids] .o_data_row:contains(Client 05)" },
        { trigger: ".o_field_widget[name=member_count]:contains(1)" },
        ...screenshot("group", ".o_form_saved"),
    ],
});

registry.category("web_tour.tours").add("group_therapy_profile_tour", {
    steps: () => [
        { trigger: ".o_notebook a:contains(Group Membership)", run: "click" },
        {
            trigger: ".o_field_widget[name=therapy_member_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickInMany2one("group_id", "AAG", "Adult Anxiety Group", ".o_field_widget[name=therapy_member_ids]"),
        ...save(),
        { trigger: ".o_field_widget[name=therapy_member_ids] .o_data_row:contains(Adult Anxiety Group)" },
        { trigger: ".o_field_widget[name=therapy_member_ids] .o_data_row .o_data_cell[name=group_code]:contains(AAG)" },
    ],
});

registry.category("web_tour.tours").add("group_therapy_session_tour", {
    steps: () => [
        ...pickInMany2one("therapy_group_id", "AAG", "Adult Anxiety Group"),
        { trigger: ".o_field_widget[name=name] input:value([AAG] Adult Anxiety Group)" },
        ...save(),
        { trigger: ".o_notebook a:contains(Attendance)", run: "click" },
        { trigger: ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 01)" },
        { trigger: "button[name=action_mark_all_attended]", run: "click" },
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 04) .o_field_widget[name=attendance_status]:contains(Attended)",
        },
        // Client 02 did not come: a no-show, not a service.
        {
            trigger: ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 02) .o_data_cell[name=state]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 02) .o_field_widget[name=state] .o_select_menu_toggler",
            run: "click",
        },
        { trigger: ".o_select_menu_item:contains(Did not attend)", run: "click" },
        // The answer's onchange clears the code: type the new one only once it has come back.
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 02) .o_field_widget[name=attendance_status]:contains(Not set)",
        },
        ...pickInMany2one(
            "product_id",
            "No-show",
            "No-show",
            ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 02)"
        ),
        ...save(),
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 02) .o_field_widget[name=attendance_status]:contains(No-show)",
        },
        ...screenshot("session", ".o_form_saved"),
        // Client 01 pays at the desk, right from the session.
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 01) button[name=action_register_payment]",
            run: "click",
        },
        { trigger: ".modal button[name=action_create_payments]", run: "click" },
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 01) .o_field_widget[name=payment_state]:contains(/^(Paid|In Payment)$/)",
        },
    ],
});

registry.category("web_tour.tours").add("group_therapy_charting_tour", {
    steps: () => [
        { trigger: "button[name=action_open_charting]", run: "click" },
        // The group notes' formatting bar is in view before anything is selected.
        { trigger: ".modal .o_field_widget[name=group_note] .o_therapy_format_bar button[data-command=formatBold]" },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised distress tolerance skills (TIPP) and shared one success each.",
        },
        {
            trigger: ".modal .o_field_widget[name=group_note] .o_therapy_format_bar button[data-command=toggleListUL]",
            run: "click",
        },
        { trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable ul li:contains(distress tolerance)" },
        // Template sections and each client's note are full-width editors: the first click types.
        {
            trigger: ".modal .o_field_widget[name=section_line_ids] .o_therapy_note_editor_row:contains(Risk assessment) .odoo-editor-editable",
            run: "editor No safety concerns reported.",
        },
        {
            trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable",
            run: "editor Asked for a referral to a psychiatrist.",
        },
        { trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable:contains(referral to a psychiatrist)" },
        // Closed before Review (the X): nothing typed is lost, Chart brings it back.
        { trigger: ".modal .modal-header .btn-close", run: "click" },
        { trigger: "body:not(:has(.modal))" },
        { trigger: "button[name=action_open_charting]", run: "click" },
        { trigger: ".modal .o_field_widget[name=group_note] li:contains(distress tolerance)" },
        { trigger: ".modal .o_field_widget[name=section_line_ids] .odoo-editor-editable:contains(No safety concerns)" },
        { trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable:contains(referral to a psychiatrist)" },
        {
            trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editors",
            run() {
                // The README picture shows the group notes and the clients' notes together.
                document.querySelector(".modal .o_field_widget[name=section_line_ids]").scrollIntoView();
            },
        },
        ...screenshot("charting", ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01)"),
        { trigger: ".modal button[name=action_review]", run: "click" },
        { trigger: ".modal .o_kanban_record:contains(Client 01):contains(referral to a psychiatrist)" },
        { trigger: ".modal .o_kanban_record:contains(Client 04):contains(distress tolerance)" },
        ...screenshot("review", ".modal .o_kanban_record:contains(Client 01)"),
        { trigger: ".modal button[name=action_sign]", run: "click" },
        { trigger: ".modal-footer button.btn-primary:contains(Ok)", run: "click" },
        // Signing asks for the provider's password again (Odoo's identity check).
        { trigger: ".modal [name=password] input", run: "edit gt_provider" },
        {
            trigger: ".modal button:contains(Confirm Password)",
            run() {
                // Note what the page shows while the notes lock, and whether leaving is warned:
                // the "leave the page?" listeners added meanwhile are asked with a stand-in event
                // (a real beforeunload would end the tour).
                window.therapySigningSeen = {};
                const leaveListeners = [];
                const addEventListener = window.addEventListener;
                window.addEventListener = function (type, listener, ...rest) {
                    if (type === "beforeunload") {
                        leaveListeners.push(listener);
                    }
                    return addEventListener.call(this, type, listener, ...rest);
                };
                const observer = new MutationObserver(() => {
                    const overlay = document.querySelector(".o_therapy_sign_progress:not(.o_therapy_sign_done)");
                    if (overlay) {
                        window.addEventListener = addEventListener;
                        observer.disconnect();
                        const leaving = {
                            defaultPrevented: false,
                            preventDefault() {
                                this.defaultPrevented = true;
                            },
                        };
                        leaveListeners.forEach((listener) => listener(leaving));
                        window.therapySigningSeen = { text: overlay.textContent, warned: leaving.defaultPrevented };
                        console.log("screenshot:signing"); // the README's picture of the signing screen
                    }
                });
                observer.observe(document.body, { childList: true, subtree: true });
            },
        },
        { trigger: ".modal button:contains(Confirm Password)", run: "click" },
        // The notes lock behind a blocking "don't navigate away" overlay, which then says so.
        {
            trigger: ".o_therapy_sign_progress.o_therapy_sign_done:contains(3 notes signed and locked)",
            run() {
                const { text, warned } = window.therapySigningSeen;
                if (!text?.includes("Signing 3 notes") || !text.includes("navigate away") || !warned) {
                    throw new Error(`No blocking progress while signing: ${JSON.stringify(window.therapySigningSeen)}`);
                }
            },
        },
        { trigger: ".o_notification:contains(signed and locked)" },
        { trigger: "button[name=action_open_chart_notes]", run: "click" },
        // Only the chart notes list has a "signed by" column: never click the session's roster.
        { trigger: ".o_list_view .o_data_row:contains(Client 04) .o_data_cell[name=signed_by_id]" },
        {
            trigger:
                ".o_list_view:has(.o_data_cell[name=signed_by_id]) .o_data_row:contains(Client 01) .o_data_cell[name=session_start]",
            run: "click",
        },
        { trigger: ".o_form_view .o_field_widget[name=partner_id]:contains(Client 01)" },
        { trigger: ".ribbon:contains(Signed)" },
        ...screenshot("chart_note", ".o_field_widget[name=body]:contains(referral to a psychiatrist)"),
    ],
});

registry.category("web_tour.tours").add("group_therapy_charting_autosave_tour", {
    steps: () => [
        { trigger: "button[name=action_open_charting]", run: "click" },
        { trigger: ".modal .o_therapy_autosave_status:contains(saved as you type)" },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised grounding skills before the break.",
        },
        {
            trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable",
            run: "editor Slept better since the last session.",
        },
        // Typing stops: a few seconds later the drafts are kept, with the dialog still open.
        { trigger: ".modal .o_therapy_autosave_status[data-status=saved]:contains(Draft saved at)", timeout: 20000 },
        // A choice is kept like typing: progress on the client's treatment-plan goal.
        {
            trigger: ".modal .o_therapy_note_editor_row:contains(Client 01) .o_therapy_goal:contains(coping skills) .o_therapy_goal_rating .o_select_menu_toggler",
            run: "click",
        },
        { trigger: ".o_select_menu_item:contains(Progressing)", run: "click" },
        { trigger: ".modal .o_therapy_autosave_status[data-status=unsaved]" },
        { trigger: ".modal .o_therapy_autosave_status[data-status=saved]:contains(Draft saved at)", timeout: 20000 },
        // The browser goes away (reload, as a crash would): nothing asks, the dialog is not closed.
        {
            trigger: ".modal .o_field_widget[name=line_ids] .odoo-editor-editable:contains(Slept better)",
            run: () => window.location.reload(),
            expectUnloadPage: true,
        },
        { trigger: "body:not(:has(.modal)) button[name=action_open_charting]", run: "click" },
        { trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable:contains(grounding skills before the break)" },
        { trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable:contains(Slept better since the last session)" },
        { trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 03) .odoo-editor-editable:not(:contains(Slept better))" },
        {
            trigger: ".modal .o_therapy_note_editor_row:contains(Client 01) .o_therapy_goal:contains(coping skills) .o_therapy_goal_rating",
            run() {
                const field = document.querySelector(
                    ".modal .o_therapy_note_editor_row[data-title='Client 01'] .o_therapy_goal_rating"
                );
                const shown = field?.querySelector("input")?.value || field?.textContent || "";
                if (!shown.includes("Progressing")) {
                    throw new Error(`The goal's progress was not kept: ${shown}`);
                }
            },
        },
    ],
});

registry.category("web_tour.tours").add("group_therapy_charting_not_kept_tour", {
    steps: () => [
        { trigger: "button[name=action_open_charting]", run: "click" },
        // Without a Chart Entry Style nothing can be kept: the page says so quietly while
        // typing, and closing asks instead of losing it.
        { trigger: ".modal .o_field_widget[name=template_id] input", run: "clear" },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised distress tolerance skills (TIPP).",
        },
        { trigger: ".modal .o_therapy_autosave_status[data-status=failed]:contains(Chart Entry Style)", timeout: 20000 },
        { trigger: ".modal .modal-header .btn-close", run: "click" },
        { trigger: ".modal-title:contains(Your notes could not be kept)" },
        { trigger: ".modal-footer button:contains(Stay)", run: "click" },
        { trigger: "body:not(:has(.modal-title:contains(could not be kept)))" },
        { trigger: ".modal .o_field_widget[name=group_note]:contains(distress tolerance)" },
        { trigger: ".modal .modal-header .btn-close", run: "click" },
        { trigger: ".modal-footer button:contains(Close and lose it)", run: "click" },
        { trigger: "body:not(:has(.modal))" },
    ],
});

registry.category("web_tour.tours").add("group_therapy_cancel_tour", {
    steps: () => [
        { trigger: ".o_form_view button[name=action_cancel_session]", run: "click" },
        { trigger: ".modal-footer button.btn-primary:contains(Ok)", run: "click" },
        { trigger: ".alert-danger:contains(This session is cancelled)" },
        { trigger: ".o_breadcrumb:contains(Cancelled:)" },
        {
            trigger:
                ".o_field_widget[name=therapy_attendance_ids] .o_data_row:contains(Client 01) .o_field_widget[name=attendance_status]:contains(No fee)",
        },
    ],
});

// The Sessions calendar: every event once (never once per attendee), unique ids only.
function eachSessionOnce(expected) {
    return {
        trigger: `.o_calendar_view .fc-event[data-event-id]:eq(${expected - 1})`,
        run() {
            const ids = [...document.querySelectorAll(".o_calendar_view .fc-event[data-event-id]")].map(
                (el) => el.dataset.eventId
            );
            if (ids.length !== expected || new Set(ids).size !== expected) {
                throw new Error(`Expected ${expected} sessions once each, got ${ids.join(", ")}`);
            }
        },
    };
}

registry.category("web_tour.tours").add("group_therapy_week_tour", {
    steps: () => [
        { trigger: ".o_searchview_facet:contains(Group Sessions)" },
        // Each group in its own colour; the attendance mark first, so it is never cut off.
        { trigger: ".fc-event.o_calendar_color_3:contains(AAG) .o_therapy_attendance_mark:contains(○)" },
        { trigger: ".fc-event.o_calendar_color_3:contains(AAG) .o_therapy_attendance_mark:contains(✓)" },
        { trigger: ".fc-event.o_calendar_color_8:contains(FRG) .o_therapy_attendance_mark:contains(○)" },
        { trigger: ".fc-event.o_therapy_session_cancelled.o_event_striked .o_therapy_attendance_mark:contains(✕)" },
        eachSessionOnce(4),
        ...screenshot("sessions_week", ".fc-event.o_calendar_color_8:contains(FRG)"),
        { trigger: ".fc-event.o_calendar_color_8:contains(FRG)", run: "click" },
        { trigger: ".o_cw_popover:contains(Other Olga):contains(Client 05)" },
    ],
});

registry.category("web_tour.tours").add("group_therapy_share_tour", {
    steps: () => [
        // Pull up Other Olga's calendar: every provider off, then only her.
        { trigger: ".o_calendar_filter[data-name=user_id] .o_calendar_filter_item:contains(Other Olga)" },
        { trigger: ".o_calendar_filter[data-name=user_id] input[name=select-all]", run: "click" },
        { trigger: ".o_calendar_view:not(:has(.fc-event))" },
        {
            trigger: ".o_calendar_filter[data-name=user_id] .o_calendar_filter_item:contains(Other Olga) input",
            run: "click",
        },
        { trigger: ".fc-event:contains(FRG)" },
        { trigger: ".o_calendar_view:not(:has(.fc-event:contains(AAG)))" },
        // Click a slot: the quick create books on Olga's calendar.
        { trigger: ".fc-timegrid-slot-lane[data-time='11:00:00']", run: "click" },
        { trigger: ".modal .o_field_widget[name=therapy_show_all_groups] input:not(:checked)", run: "click" },
        { trigger: ".modal .o_field_widget[name=therapy_show_all_groups] input:checked" },
        ...pickInMany2one("therapy_group_id", "AAG", "Adult Anxiety Group", ".modal"),
        { trigger: ".modal .alert-info:contains(belongs to Provider Pat):contains(shares the group with Other Olga)" },
        // Wait for the picked group in the field, then close any suggestion list before the picture.
        { trigger: ".modal .o_field_widget[name=therapy_group_id] input:value([AAG] Adult Anxiety Group)" },
        {
            trigger: ".modal .modal-title",
            run() {
                if (document.querySelector(".o-autocomplete--dropdown-menu")) {
                    this.anchor.click();
                }
            },
        },
        ...screenshot("share_quick_create", ".modal .alert-info:contains(Other Olga)"),
        // More Options keeps every choice.
        { trigger: ".modal button:contains(More Options)", run: "click" },
        { trigger: ".o_form_view .o_field_widget[name=therapy_group_id] input:value([AAG] Adult Anxiety Group)" },
        { trigger: ".o_form_view .alert-info:contains(shares the group with Other Olga)" },
        ...save(),
        { trigger: ".o_form_view .alert-info:contains(is shared with Other Olga)" },
        // Back on the calendar, the session is on Olga's calendar.
    ],
});

registry.category("web_tour.tours").add("group_therapy_shared_calendar_tour", {
    steps: () => [
        { trigger: ".o_searchview_facet:contains(My Sessions)" },
        { trigger: ".fc-event:contains(FRG)" },
        { trigger: ".fc-event:contains(AAG)" },
        ...screenshot("share_done", ".fc-event:contains(AAG)"),
    ],
});

// Nothing on the screen scrolls sideways: the page, the form, the roster.
function noSidewaysScrolling(trigger) {
    return {
        trigger,
        run() {
            const scrollers = [
                document.scrollingElement,
                ...document.querySelectorAll(
                    ".o_content, .o_form_sheet_bg, .o_therapy_roster .o_list_renderer, .o_therapy_roster .o_kanban_renderer, .modal-body, .modal .o_form_renderer, .modal-footer"
                ),
            ];
            for (const el of scrollers) {
                if (el.scrollWidth > el.clientWidth + 1) {
                    throw new Error(
                        `${el.className} scrolls sideways: ${el.scrollWidth} > ${el.clientWidth}`
                    );
                }
            }
        },
    };
}

function payInDialog(client, journal) {
    return [
        // Invoicing and posting come first: give a loaded CI machine time.
        { trigger: `.modal .modal-title:contains(${client}):contains(Adult Anxiety Group)`, timeout: 30000 },
        { trigger: ".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Cash)" },
        { trigger: ".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Card)" },
        { trigger: ".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Checks)" },
        {
            trigger: `.modal .o_field_widget[name=journal_id] .o_radio_item:contains(${journal}) input`,
            run: "click",
        },
        { trigger: `.modal .o_field_widget[name=journal_id] .o_radio_item:contains(${journal}) input:checked` },
    ];
}

// On a phone (390 px wide): charting reads and types without sideways scrolling.
registry.category("web_tour.tours").add("group_therapy_charting_phone_tour", {
    steps: () => [
        {
            trigger: ".o_form_view .o-form-buttonbox",
            run() {
                // A narrow button box keeps some buttons under "More".
                if (!document.querySelector("button[name=action_open_charting]")) {
                    document.querySelector(".o-form-buttonbox .o_button_more")?.click();
                }
            },
        },
        { trigger: "button[name=action_open_charting]", run: "click" },
        {
            trigger: ".modal .o_field_widget[name=group_note] .odoo-editor-editable",
            run: "editor We practised grounding skills and planned the week.",
        },
        {
            trigger: ".modal .o_field_widget[name=line_ids] .o_therapy_note_editor_row:contains(Client 01) .odoo-editor-editable",
            run: "editor Asked for a referral to a psychiatrist.",
        },
        noSidewaysScrolling(".modal .o_field_widget[name=line_ids] .odoo-editor-editable:contains(referral)"),
        { trigger: ".modal .o_therapy_autosave_status[data-status=saved]", timeout: 20000 },
        ...screenshot("charting_phone", ".modal .o_therapy_autosave_status[data-status=saved]"),
        { trigger: ".modal button[name=action_review]", run: "click" },
        { trigger: ".modal .o_kanban_record:contains(Client 01):contains(referral to a psychiatrist)" },
        noSidewaysScrolling(".modal .o_kanban_record:contains(Client 04)"),
        ...screenshot("review_phone", ".modal .o_kanban_record:contains(Client 01)"),
        { trigger: ".modal button[name=action_keep_drafts]", run: "click" },
        { trigger: "body:not(:has(.modal))" },
    ],
});

registry.category("web_tour.tours").add("group_therapy_roster_tour", {
    steps: () => [
        { trigger: ".o_notebook a:contains(Attendance)", run: "click" },
        {
            trigger:
                ".o_therapy_roster .o_data_row:contains(Client 01):has(.o_field_widget[name=attendance_status]:contains(Attended)):has(button[name=action_register_payment])",
        },
        {
            trigger:
                ".o_therapy_roster .o_data_row:contains(Client 02) .o_field_widget[name=attendance_status]:contains(No-show)",
        },
        noSidewaysScrolling(".o_therapy_roster .o_data_row:contains(Client 04)"),
        ...screenshot("roster_desk", ".o_therapy_roster .o_data_row:contains(Client 04)"),
        {
            trigger: ".o_therapy_roster .o_data_row:contains(Client 01) button[name=action_register_payment]",
            run: "click",
        },
        ...payInDialog("Client 01", "Cash"),
        ...screenshot("payment_dialog", ".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Cash) input:checked"),
        { trigger: ".modal button[name=action_create_payments]", run: "click" },
        { trigger: "body:not(:has(.modal))", timeout: 30000 },
        {
            trigger:
                ".o_therapy_roster .o_data_row:contains(Client 01) .o_field_widget[name=payment_state]:contains(/^(Paid|In Payment)$/)",
        },
        noSidewaysScrolling(".o_therapy_roster .o_data_row:contains(Client 01)"),
    ],
});

registry.category("web_tour.tours").add("group_therapy_roster_mobile_tour", {
    steps: () => [
        { trigger: ".o_notebook a:contains(Attendance)", run: "click" },
        {
            trigger:
                ".o_therapy_roster_cards .o_kanban_record:contains(Client 03):has(.o_field_widget[name=attendance_status]:contains(Attended)):has(button[name=action_register_payment])",
        },
        { trigger: ".o_therapy_roster_cards .o_kanban_record:contains(Client 02):contains(No-show)" },
        noSidewaysScrolling(".o_therapy_roster_cards .o_kanban_record:contains(Client 04)"),
        ...screenshot("roster_phone", ".o_therapy_roster_cards .o_kanban_record:contains(Client 01)"),
        {
            trigger: ".o_therapy_roster_cards .o_kanban_record:contains(Client 03) button[name=action_register_payment]",
            run: "click",
        },
        ...payInDialog("Client 03", "Card"),
        noSidewaysScrolling(".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Card) input:checked"),
        ...screenshot("payment_dialog_phone", ".modal .o_field_widget[name=journal_id] .o_radio_item:contains(Card) input:checked"),
        { trigger: ".modal button[name=action_create_payments]", run: "click" },
        { trigger: "body:not(:has(.modal))", timeout: 30000 },
        {
            trigger:
                ".o_therapy_roster_cards .o_kanban_record:contains(Client 03) .o_field_widget[name=payment_state]:contains(/^(Paid|In Payment)$/)",
        },
    ],
});
