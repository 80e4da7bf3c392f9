import { defineMailModels } from "@mail/../tests/mail_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { waitUntil } from "@odoo/hoot-dom";
import { advanceTime, animationFrame, Deferred } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    editSelectMenu,
    fields,
    models,
    mountView,
    onRpc,
} from "@web/../tests/web_test_helpers";

describe.current.tags("headless");

class ChartTemplate extends models.Model {
    _name = "therapy.chart.template";

    name = fields.Char();

    _records = [{ id: 1, name: "Group progress note" }];
}

class ChartingWizard extends models.Model {
    _name = "therapy.charting.wizard";

    step = fields.Selection({
        selection: [
            ["write", "Write"],
            ["review", "Review"],
        ],
    });
    template_id = fields.Many2one({ relation: "therapy.chart.template" });
    line_ids = fields.One2many({
        relation: "therapy.charting.wizard.line",
        relation_field: "wizard_id",
    });

    // As on the server, the report before signing follows the lines: every change to a line
    // (a goal's progress) asks the server first.
    _onChanges = { line_ids() {} };

    _records = [{ id: 1, step: "write", template_id: 1, line_ids: [1, 2] }];

    _views = {
        form: /* xml */ `
            <form js_class="therapy_charting_form">
                <field name="step" invisible="1"/>
                <field name="template_id"/>
                <field name="line_ids" widget="therapy_note_editors"
                       options="{'html_field': 'note', 'title_field': 'client', 'goals_field': 'goal_line_ids'}">
                    <list editable="bottom">
                        <field name="client"/>
                        <field name="note"/>
                        <field name="goal_line_ids">
                            <list editable="bottom">
                                <field name="problem" readonly="1"/>
                                <field name="goal_name" readonly="1"/>
                                <field name="rating"/>
                                <field name="comment"/>
                            </list>
                        </field>
                    </list>
                </field>
                <widget name="therapy_autosave_status"/>
            </form>`,
    };

    action_autosave_drafts() {
        return true;
    }
}

class ChartingWizardLine extends models.Model {
    _name = "therapy.charting.wizard.line";

    wizard_id = fields.Many2one({ relation: "therapy.charting.wizard" });
    client = fields.Char();
    note = fields.Html();
    goal_line_ids = fields.One2many({
        relation: "therapy.charting.wizard.goal",
        relation_field: "line_id",
    });

    _records = [
        { id: 1, wizard_id: 1, client: "Client 01", goal_line_ids: [1] },
        { id: 2, wizard_id: 1, client: "Client 02", goal_line_ids: [2] },
    ];
}

class ChartingWizardGoal extends models.Model {
    _name = "therapy.charting.wizard.goal";

    line_id = fields.Many2one({ relation: "therapy.charting.wizard.line" });
    problem = fields.Char();
    goal_name = fields.Char();
    rating = fields.Selection({
        selection: [
            ["progressing", "Progressing"],
            ["no_change", "No change"],
            ["regressing", "Regressing"],
            ["met", "Goal met"],
        ],
    });
    comment = fields.Char();

    _records = [
        { id: 1, line_id: 1, problem: "Anxiety", goal_name: "Uses two coping skills" },
        { id: 2, line_id: 2, problem: "Alcohol use", goal_name: "Logs cravings" },
    ];
}

defineMailModels();
defineModels([ChartTemplate, ChartingWizard, ChartingWizardLine, ChartingWizardGoal]);

/** One field of the goals in what a save sent: {goal id: value}. */
function goalValuesSent(changes, fieldName) {
    const values = {};
    for (const [, , lineValues] of changes.line_ids || []) {
        for (const [, goalId, goalValues] of lineValues?.goal_line_ids || []) {
            if (goalValues && fieldName in goalValues) {
                values[goalId] = goalValues[fieldName];
            }
        }
    }
    return values;
}
const ratingsSent = (changes) => goalValuesSent(changes, "rating");
const commentsSent = (changes) => goalValuesSent(changes, "comment");

const ratingInput = (goalName) => `.o_therapy_goal[data-goal='${goalName}'] .o_therapy_goal_rating input`;
const commentInput = (goalName) => `.o_therapy_goal[data-goal='${goalName}'] .o_therapy_goal_comment input`;
const status = () => document.querySelector(".o_therapy_autosave_status").dataset.status;

/**
 * The charting page with its saves recorded (what each web_save sent, in order); `hold.save`
 * and `hold.onchange`, when set to a Deferred, keep those requests in flight until resolved.
 */
async function mountChartingPage() {
    const saves = [];
    const hold = { save: null, onchange: null };
    onRpc("therapy.charting.wizard", "web_save", async ({ args }) => {
        saves.push(args[1]);
        await hold.save;
    });
    onRpc("therapy.charting.wizard", "onchange", async () => {
        await hold.onchange;
    });
    await mountView({ type: "form", resModel: "therapy.charting.wizard", resId: 1 });
    return { saves, hold };
}

// tests/test_js_units.py runs the suites whose name contains "therapy_draft_autosave".
describe("therapy_draft_autosave_page", () => {
    test("a goal's progress picked while a draft is being saved is saved after it", async () => {
        const { saves, hold } = await mountChartingPage();
        await editSelectMenu(ratingInput("Uses two coping skills"), { value: "No change" });
        expect(status()).toBe("unsaved");

        hold.save = new Deferred();
        await advanceTime(3000); // kept like typing: saved three seconds later
        await waitUntil(() => saves.length === 1);
        expect(status()).toBe("saving");
        expect(ratingsSent(saves[0])).toEqual({ 1: "no_change" });

        // The provider rates the other client's goal while that save is in flight.
        await editSelectMenu(ratingInput("Logs cravings"), { value: "Progressing" });
        expect(ratingInput("Logs cravings")).toHaveValue("Progressing");

        hold.save.resolve();
        hold.save = null;
        await waitUntil(() => status() !== "saving");
        expect(status()).toBe("unsaved"); // never "saved" while the pick is not in the draft
        await advanceTime(3000);
        await waitUntil(() => saves.length === 2 && status() === "saved");
        expect(ratingsSent(saves[1])).toEqual({ 1: "no_change", 2: "progressing" });
        expect(ratingInput("Logs cravings")).toHaveValue("Progressing");
        await advanceTime(10000);
        expect(saves).toHaveLength(2); // and nothing is saved again for nothing
    });

    test("a goal's progress picked while the page waits on the server is shown and saved", async () => {
        // On a loaded server (the goals tour on CI): the onchange of what was typed is slow,
        // the autosave waits behind it ("Saving draft…"), and the pick waits behind both.
        const { saves, hold } = await mountChartingPage();
        hold.onchange = new Deferred();
        await contains(commentInput("Uses two coping skills")).edit("Used box breathing twice");
        expect(status()).toBe("unsaved");
        await advanceTime(3000);
        await animationFrame();
        expect(status()).toBe("saving");
        await editSelectMenu(ratingInput("Logs cravings"), { value: "Progressing" });
        // Queued behind them, the pick is not shown yet: the goals tour waits for it.
        expect(ratingInput("Logs cravings")).toHaveValue("");
        expect(saves).toHaveLength(0);

        hold.onchange.resolve();
        hold.onchange = null;
        // The save takes the page's changes once all that was queued is done: the pick too.
        await waitUntil(() => saves.length === 1 && status() === "saved");
        expect(ratingInput("Logs cravings")).toHaveValue("Progressing");
        expect(commentsSent(saves[0])).toEqual({ 1: "Used box breathing twice" });
        expect(ratingsSent(saves[0])).toEqual({ 2: "progressing" });
        await advanceTime(10000);
        expect(saves).toHaveLength(1);
    });
});
