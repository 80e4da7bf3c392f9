import { describe, expect, test } from "@odoo/hoot";
import { advanceTime, Deferred } from "@odoo/hoot-mock";
import { ConnectionLostError } from "@web/core/network/rpc";

import { DraftAutosave } from "@group_therapy/views/charting_form/draft_autosave";

describe.current.tags("headless");

// The name the Python runner (tests/test_js_units.py) selects these tests by.
describe("therapy_draft_autosave", () => {

    /** A DraftAutosave whose saves are counted (and can be held or made to fail). */
    function makeAutosave(options = {}) {
        const calls = { count: 0, hold: null, fail: null };
        const autosave = new DraftAutosave(
            async () => {
                calls.count++;
                if (calls.hold) {
                    await calls.hold;
                }
                if (calls.fail) {
                    throw calls.fail;
                }
            },
            { delay: 3000, retryDelay: 15000, ...options }
        );
        return { autosave, calls };
    }

    test("typing saves once, three seconds after it stops, never per keystroke", async () => {
        const { autosave, calls } = makeAutosave();
        for (let key = 0; key < 20; key++) {
            autosave.touch();
            await advanceTime(200);
        }
        expect(calls.count).toBe(0);
        expect(autosave.state.status).toBe("unsaved");
        expect(autosave.pending).toBe(true);
        await advanceTime(3000);
        expect(calls.count).toBe(1);
        expect(autosave.state.status).toBe("saved");
        expect(autosave.pending).toBe(false);
        await advanceTime(10000);
        expect(calls.count).toBe(1);
    });

    test("leaving an editor saves at once, and only what is not saved yet", async () => {
        const { autosave, calls } = makeAutosave();
        await autosave.flush();
        expect(calls.count).toBe(0);
        autosave.touch();
        await autosave.flush();
        expect(calls.count).toBe(1);
        await advanceTime(5000);
        expect(calls.count).toBe(1);
    });

    test("what is typed during a save is saved after it, one save at a time", async () => {
        const { autosave, calls } = makeAutosave();
        calls.hold = new Deferred();
        autosave.touch();
        const first = autosave.flush();
        autosave.touch();
        const second = autosave.flush();
        expect(calls.count).toBe(1);
        calls.hold.resolve();
        calls.hold = null;
        await first;
        await second;
        expect(calls.count).toBe(2);
        expect(autosave.state.status).toBe("saved");
    });

    test("a failed save is told, not thrown, and retried when the connection is back", async () => {
        const { autosave, calls } = makeAutosave();
        calls.fail = new ConnectionLostError("/web/dataset/call_kw");
        autosave.touch();
        await autosave.flush();
        expect(autosave.state.status).toBe("failed");
        expect(autosave.pending).toBe(true);
        calls.fail = null;
        await advanceTime(15000);
        expect(calls.count).toBe(2);
        expect(autosave.state.status).toBe("saved");
    });

    test("a refused save waits for more typing", async () => {
        const { autosave, calls } = makeAutosave();
        calls.fail = new Error("The chart notes are signed and locked.");
        autosave.touch();
        await autosave.flush();
        expect(autosave.state.problem).toInclude("signed and locked");
        await advanceTime(60000);
        expect(calls.count).toBe(1);
        calls.fail = null;
        autosave.touch();
        expect(autosave.state.status).toBe("failed"); // still in view until a save succeeds
        await advanceTime(3000);
        expect(calls.count).toBe(2);
        expect(autosave.state.status).toBe("saved");
    });
});
