import { Component, onWillRender } from "@odoo/owl";
import { formatDate } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { Field } from "@web/views/fields/field";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * Lines of a one2many written as text, one full-width rich-text editor per line, open for
 * typing at once: the charting dialog's clients' notes and template sections. (An editable
 * list only turns a cell into an editor on the first click, which drops what was typed, and
 * squeezes the text into a narrow column.)
 *
 * Options: html_field (the text), title_field, badge_field, hint_field, required_field;
 * goals_field: a one2many of the line whose records (a client's treatment-plan goals) are shown
 * beside the text, each with its progress rating and comment open for input.
 */
export class NoteEditorsField extends Component {
    static template = "group_therapy.NoteEditorsField";
    static components = { Field };
    static props = {
        ...standardFieldProps,
        views: { type: Object, optional: true },
        viewMode: { type: String, optional: true },
        htmlField: { type: String },
        titleField: { type: String },
        badgeField: { type: String, optional: true },
        hintField: { type: String, optional: true },
        requiredField: { type: String, optional: true },
        goalsField: { type: String, optional: true },
    };

    setup() {
        // Every line (and each goal beside it) is open for input from the start: the lines are
        // edited side by side. A line of a one2many starts read-only, and the list itself only
        // opens one line at a time (StaticList.enterEditMode), so each is opened through
        // Record.switchMode, the record's public way to change mode (it queues on the model's
        // mutex, after any save or onchange in progress). Lines the model creates again (a
        // reload) are opened again. The charting tours type into every kind of line first: an
        // upgrade that changes this fails them.
        this.opening = new WeakSet();
        onWillRender(() => {
            if (this.props.readonly) {
                return;
            }
            for (const line of this.lines) {
                for (const record of [line, ...this.goalLines(line)]) {
                    if (!record.isInEdition && !this.opening.has(record)) {
                        this.opening.add(record);
                        record.switchMode("edit").finally(() => this.opening.delete(record));
                    }
                }
            }
        });
    }

    get lines() {
        return this.props.record.data[this.props.name].records;
    }

    /** The text's attributes (placeholder, options) as written in the view's inline list. */
    get htmlInfo() {
        const fieldNodes = this.props.views?.list?.fieldNodes || {};
        return Object.values(fieldNodes).find((node) => node.name === this.props.htmlField);
    }

    /** The goals shown beside a line's text (none without the goals_field option). */
    goalLines(line) {
        return (this.props.goalsField && line.data[this.props.goalsField]?.records) || [];
    }

    /** A goal's field attributes as written in the view's inline list of goals. */
    goalInfo(fieldName) {
        const fieldNodes = this.props.views?.list?.fieldNodes || {};
        const goalsNode = Object.values(fieldNodes).find(
            (node) => node.name === this.props.goalsField
        );
        const goalNodes = goalsNode?.views?.list?.fieldNodes || {};
        return Object.values(goalNodes).find((node) => node.name === fieldName);
    }

    formatTargetDate(value) {
        return value ? formatDate(value) : "";
    }

    display(line, fieldName) {
        const value = fieldName && line.data[fieldName];
        return value && typeof value === "object" ? value.display_name : value;
    }
}

registry.category("fields").add("therapy_note_editors", {
    component: NoteEditorsField,
    supportedTypes: ["one2many"],
    useSubView: true,
    extractProps: ({ options, views, viewMode }) => ({
        views,
        viewMode,
        htmlField: options.html_field,
        titleField: options.title_field,
        badgeField: options.badge_field,
        hintField: options.hint_field,
        requiredField: options.required_field,
        goalsField: options.goals_field,
    }),
});
