import { Component, onWillRender } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { Field } from "@web/views/fields/field";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

/**
 * The charting dialog's client notes: one full-width rich-text editor per attending client,
 * open for typing at once. (An editable list only turns a cell into an editor on the first
 * click, which then drops what was typed, and squeezes the note into a narrow column.)
 */
export class ClientNotesField extends Component {
    static template = "group_therapy.ClientNotesField";
    static components = { Field };
    static props = {
        ...standardFieldProps,
        views: { type: Object, optional: true },
        viewMode: { type: String, optional: true },
    };

    setup() {
        // Every client's note is an editor from the start: the lines are edited side by side.
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

    /** The note's attributes (placeholder, options) as written in the view's inline list. */
    get noteInfo() {
        const fieldNodes = this.props.views?.list?.fieldNodes || {};
        return Object.values(fieldNodes).find((node) => node.name === "note");
    }
}

registry.category("fields").add("therapy_client_notes", {
    component: ClientNotesField,
    supportedTypes: ["one2many"],
    useSubView: true,
    extractProps: ({ views, viewMode }) => ({ views, viewMode }),
});
