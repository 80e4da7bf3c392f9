import { patch } from "@web/core/utils/patch";
import { registry } from "@web/core/registry";
import { calendarView } from "@web/views/calendar/calendar_view";
import { CalendarController } from "@web/views/calendar/calendar_controller";
import { CalendarModel } from "@web/views/calendar/calendar_model";
import { CalendarRenderer } from "@web/views/calendar/calendar_renderer";
import { CalendarCommonRenderer } from "@web/views/calendar/calendar_common/calendar_common_renderer";
import {
    CalendarQuickCreate,
    CalendarQuickCreateFormController,
} from "@calendar/views/calendar_form/calendar_quick_create";

/**
 * The practice's Sessions calendar: one event per session (never one per attendee), coloured
 * by its group, with the attendance mark at the front of the event so it is never cut off.
 * The "Provider" side panel pulls up one provider's calendar: a slot clicked while only that
 * provider is shown books the session on their calendar.
 */
export class SessionCalendarModel extends CalendarModel {
    /** The one provider whose calendar is shown, when the side panel shows only one. */
    get shownProviderId() {
        const section = this.filterSections.find((s) => s.fieldName === "user_id");
        const active = (section?.filters || []).filter((f) => f.active && f.value);
        const hidden = (section?.filters || []).filter((f) => !f.active);
        return active.length === 1 && hidden.length ? active[0].value : false;
    }

    makeContextDefaults(rawRecord) {
        const context = super.makeContextDefaults(rawRecord);
        const providerId = this.shownProviderId;
        if (providerId) {
            context.default_user_id = providerId;
        }
        return context;
    }

    normalizeRecord(rawRecord) {
        const record = super.normalizeRecord(rawRecord);
        record.isStriked = record.isStriked || Boolean(rawRecord.therapy_cancelled);
        return record;
    }
}

export class SessionCalendarCommonRenderer extends CalendarCommonRenderer {
    static eventTemplate = "group_therapy.SessionCalendarCommonRenderer.event";

    eventClassNames({ event }) {
        const classes = super.eventClassNames(...arguments);
        const record = this.props.model.records[event.id];
        if (record?.rawRecord.therapy_cancelled) {
            classes.push("o_therapy_session_cancelled");
        }
        return classes;
    }
}

export class SessionCalendarRenderer extends CalendarRenderer {
    static components = {
        ...CalendarRenderer.components,
        day: SessionCalendarCommonRenderer,
        week: SessionCalendarCommonRenderer,
        month: SessionCalendarCommonRenderer,
    };
}

export class SessionCalendarController extends CalendarController {
    static components = {
        ...CalendarController.components,
        QuickCreateFormView: CalendarQuickCreate,
    };

    getQuickCreateFormViewProps(record) {
        const props = super.getQuickCreateFormViewProps(record);
        return { ...props, size: "md", onRecordSaved: () => this.model.load() };
    }
}

registry.category("views").add("therapy_session_calendar", {
    ...calendarView,
    Controller: SessionCalendarController,
    Model: SessionCalendarModel,
    Renderer: SessionCalendarRenderer,
});

// "More Options" carries the group, the provider and the "All groups" choice to the full form
// (Odoo's quick create only carries its own fields).
const SESSION_CHOICES = ["therapy_group_id", "user_id", "therapy_show_all_groups"];

patch(CalendarQuickCreateFormController.prototype, {
    goToFullEvent() {
        const data = this.model.root.data;
        const choices = {};
        for (const fieldName of SESSION_CHOICES) {
            if (fieldName in data) {
                const value = data[fieldName];
                choices[`default_${fieldName}`] =
                    value && typeof value === "object" ? value.id : value;
            }
        }
        if (!Object.keys(choices).length) {
            return super.goToFullEvent(...arguments);
        }
        const props = this.props;
        this.props = { ...props, context: { ...props.context, ...choices } };
        try {
            return super.goToFullEvent(...arguments);
        } finally {
            this.props = props;
        }
    },
});
