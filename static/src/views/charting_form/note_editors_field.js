import { Component, onWillRender } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { Field } from "@web/views/fields/field";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * Lines of a one2many written as text, one full-width rich-text editor per line, open for
 * typing at once: the charting dialog's clients' notes and template sections. (An editable
 * list only turns a cell into an editor on the first click, which drops what was typed, and
 * squeezes the text into a narrow column.)
 *
 * Options: html_field (the text), title_field, badge_field, hint_field, required_field.
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
    };

    setup() {
        // Every line is an editor from the start: the lines are edited side by side.
        onWillRender(() => {
            if (this.props.readonly) {
                return;
            }
            for (const line of this.lines) {
                if (!line.isInEdition) {
                    line._switchMode("edit");
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
    }),
});
