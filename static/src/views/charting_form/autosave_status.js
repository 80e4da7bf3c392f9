import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

const { DateTime } = luxon;

/**
 * A quiet line on the charting page saying whether what was typed is kept: "Draft saved at
 * 10:42", or why not, without interrupting the typing. Follows the page's DraftAutosave.
 */
export class AutosaveStatus extends Component {
    static template = "group_therapy.AutosaveStatus";
    static props = standardWidgetProps;

    setup() {
        this.state = useState(this.env.therapyDraftAutosave?.state || {});
    }

    get message() {
        const { status, savedAt, problem } = this.state;
        if (status === "unsaved") {
            return _t("Changes not saved yet");
        }
        if (status === "saving") {
            return _t("Saving draft…");
        }
        if (status === "saved") {
            return _t("Draft saved at %(time)s", {
                time: DateTime.fromJSDate(savedAt).toLocaleString(DateTime.TIME_SIMPLE),
            });
        }
        if (status === "failed") {
            return _t("Not saved yet: %(problem)s It is saved again as you type.", { problem });
        }
        return _t("Drafts are saved as you type.");
    }
}

registry.category("view_widgets").add("therapy_autosave_status", { component: AutosaveStatus });
