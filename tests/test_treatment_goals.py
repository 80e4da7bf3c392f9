"""Treatment-plan goals: a client's plan on their profile, its active goals
beside their note when charting, the progress recorded going into that client's note only and
frozen with it once signed. Each test runs as the user who meets it."""

from datetime import date, timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import html2plaintext, mute_logger

from .common import GroupTherapyCommon
from .test_charting import ChartingCommon

SEES, HIDDEN, REFUSED = "sees", "hidden", "refused"


class GoalsCommon(GroupTherapyCommon):
    @classmethod
    def _goal(cls, client, problem, name, **values):
        return cls.env["therapy.treatment.goal"].create(
            {"partner_id": client.id, "problem": problem, "name": name, **values}
        )


@tagged("post_install", "-at_install")
class TestTreatmentPlanAccess(GoalsCommon):
    """Who reads and changes a client's plan, by every route RPC takes (search_read, read,
    read_group, export, write, create, the client's own field), each run as that user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.staff = new_test_user(cls.env, "gt_goal_staff", groups="base.group_user")
        # clients[0]: of the shared group; clients[4]: of Other Olga's group alone.
        cls.own, cls.others = cls.clients[0], cls.clients[4]
        cls.own_goal = cls._goal(cls.own, "Anxiety", "Uses two coping skills, 4 of 7 days")
        cls.others_goal = cls._goal(cls.others, "Alcohol use", "30 days abstinent")
        export_group = cls.env.ref("base.group_allow_export")
        for user in (
            cls.provider,
            cls.shared_provider,
            cls.other_provider,
            cls.front_desk,
            cls.accountant,
        ):
            user.group_ids = [Command.link(export_group.id)]

    def _reading(self, user, goal):
        """What ``user`` gets of ``goal`` by search_read, read, read_group and export."""
        Goal = self.env["therapy.treatment.goal"].with_user(user)
        try:
            found = Goal.search_read([("id", "=", goal.id)], ["problem", "name"])
        except AccessError:
            return REFUSED
        counted = Goal.formatted_read_group([("id", "=", goal.id)], ["state"], ["__count"])
        exported = Goal.search([("id", "=", goal.id)]).export_data(["name"])["datas"]
        if not found:
            self.assertFalse(counted, "read_group counts what search hides")
            self.assertFalse(exported)
            with self.assertRaises(AccessError):
                goal.with_user(user).read(["name"])
            return HIDDEN
        self.assertEqual(found[0]["name"], goal.name)
        self.assertEqual(counted[0]["__count"], 1)
        self.assertEqual(exported, [[goal.name]])
        return SEES

    def test_who_reads_the_plan(self):
        for user, goal, expected in (
            (self.provider, self.own_goal, SEES),
            (self.shared_provider, self.own_goal, SEES),
            (self.other_provider, self.own_goal, HIDDEN),
            (self.provider, self.others_goal, HIDDEN),
            (self.other_provider, self.others_goal, SEES),
            (self.front_desk, self.own_goal, SEES),
            (self.front_desk, self.others_goal, SEES),
            (self.manager, self.others_goal, SEES),
            (self.accountant, self.own_goal, REFUSED),
            (self.staff, self.own_goal, REFUSED),
            (self.portal_user, self.own_goal, REFUSED),
        ):
            with self.subTest(user=user.name, goal=goal.name):
                self.assertEqual(self._reading(user, goal), expected)

    def test_who_changes_the_plan(self):
        """Providers who serve the client own the plan; the front desk reads it only."""
        for user, goal, allowed in (
            (self.provider, self.own_goal, True),
            (self.shared_provider, self.own_goal, True),
            (self.manager, self.others_goal, True),
            (self.other_provider, self.own_goal, False),
            (self.front_desk, self.own_goal, False),
            (self.accountant, self.own_goal, False),
            (self.portal_user, self.own_goal, False),
        ):
            with self.subTest(user=user.name, goal=goal.name):
                Goal = self.env["therapy.treatment.goal"].with_user(user)
                if allowed:
                    goal.with_user(user).write({"state": "revised"})
                    Goal.create(
                        {"partner_id": goal.partner_id.id, "problem": "Sleep", "name": "7 hours"}
                    )
                    continue
                with self.assertRaises(AccessError), mute_logger("odoo.models"):
                    goal.with_user(user).write({"name": "Changed"})
                with self.assertRaises(AccessError), mute_logger("odoo.models"):
                    Goal.create(
                        {"partner_id": goal.partner_id.id, "problem": "Sleep", "name": "7 hours"}
                    )
                with self.assertRaises(AccessError), mute_logger("odoo.models"):
                    goal.with_user(user).unlink()
        self.assertNotEqual(self.own_goal.name, "Changed")

    def test_the_clients_plan_field_follows_the_same_rules(self):
        """The plan on the client's form: for those who serve the client, and not searchable
        by its text by anyone else."""
        Partner = self.env["res.partner"]
        self.env.invalidate_all()
        self.assertEqual(self.own.with_user(self.provider).therapy_goal_ids, self.own_goal)
        self.env.invalidate_all()
        # a client of a colleague's group: not even the contact (test_privacy_contacts)
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            self.own.with_user(self.other_provider).web_read(
                {"therapy_goal_ids": {"fields": {"name": {}}}}
            )
        self.assertFalse(
            Partner.with_user(self.other_provider).search(
                [("therapy_goal_ids.name", "ilike", "coping")]
            )
        )
        self.assertEqual(
            Partner.with_user(self.provider).search([("therapy_goal_ids.name", "ilike", "coping")]),
            self.own,
        )

    def test_the_clients_form_shows_the_plan_to_those_who_serve(self):
        """Providers edit the plan on the client's form; the front desk reads it; a provider
        who does not serve the client reads nothing."""
        spec = {
            "therapy_clinical_access": {},
            "therapy_goal_ids": {"fields": {"problem": {}, "name": {}, "state": {}}},
        }
        for user, client, shown, read_only in (
            (self.provider, self.own, self.own_goal, False),
            (self.front_desk, self.others, self.others_goal, True),
            (self.other_provider, self.own, None, False),
        ):
            with self.subTest(user=user.name):
                Partner = self.env["res.partner"].with_user(user)
                arch = Partner.get_views([(False, "form")])["views"]["form"]["arch"]
                self.assertEqual(arch.count('name="therapy_goal_ids"'), 1)
                field_node = arch.split('name="therapy_goal_ids"')[1].split(">")[0]
                self.assertEqual('readonly="1"' in field_node, read_only)
                self.env.invalidate_all()
                if user == self.other_provider:
                    # a client of a colleague's group: not even the contact (test_privacy_contacts)
                    with (
                        self.assertRaises(AccessError),
                        mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                    ):
                        client.with_user(user).web_read(spec)
                    continue
                form = client.with_user(user).web_read(spec)[0]
                self.assertEqual(form["therapy_clinical_access"], bool(shown))
                self.assertEqual(
                    [goal["name"] for goal in form["therapy_goal_ids"]],
                    [shown.name] if shown else [],
                )

    def test_reading_the_plan_is_on_the_access_log(self):
        Log = self.env["therapy.access.log"]
        before = Log.search_count([])
        self.own_goal.with_user(self.provider).read(["name"])
        line = Log.search([], limit=1)
        self.assertEqual(Log.search_count([]), before + 1)
        self.assertEqual(
            (line.user_id, line.partner_id, line.res_model, line.res_id),
            (self.provider, self.own, "therapy.treatment.goal", self.own_goal.id),
        )


@tagged("post_install", "-at_install")
class TestTreatmentPlanInputs(GoalsCommon):
    """Bad goals are refused with a message that says what to fix."""

    def _create(self, **values):
        Goal = self.env["therapy.treatment.goal"].with_user(self.provider)
        return Goal.create(
            {"partner_id": self.clients[0].id, "problem": "Anxiety", "name": "Sleeps 7h", **values}
        )

    def test_blank_problem_or_goal(self):
        for values in ({"name": "   "}, {"problem": " \n"}, {"name": False}, {"problem": ""}):
            with self.subTest(values=values):
                with self.assertRefused(ValidationError, "needs a problem and a measurable goal"):
                    self._create(**values)
        goal = self._create()
        with self.assertRefused(ValidationError, "needs a problem and a measurable goal"):
            goal.write({"name": " "})
        with self.assertRefused(ValidationError, "needs a problem and a measurable goal"):
            self.env["therapy.treatment.goal"].with_user(self.provider).create(
                {"partner_id": self.clients[0].id, "problem": "Anxiety"}
            )

    def test_target_before_start(self):
        with self.assertRefused(ValidationError, "is before its start date"):
            self._create(date_start="2026-03-01", date_target="2026-02-01")
        goal = self._create(date_start="2026-03-01", date_target="2026-03-01")
        with self.assertRefused(ValidationError, "choose a later target date"):
            goal.write({"date_start": "2026-04-01"})

    def test_wrong_types_and_values(self):
        with self.assertRefused(ValidationError, "a date (YYYY-MM-DD)"):
            self._create(date_target="next month")
        with self.assertRefused(ValidationError, "one of active, met, revised, discontinued"):
            self._create(state="done")

    def test_a_goal_stays_with_its_client(self):
        goal = self._create()
        with self.assertRefused(UserError, "stays with its client"):
            goal.write({"partner_id": self.clients[1].id})


@tagged("post_install", "-at_install")
class TestGoalsInCharting(ChartingCommon):
    """The charting screen offers each attending client's active goals beside their note; the
    progress recorded goes into that client's note only, and is frozen when it is signed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Goal = cls.env["therapy.treatment.goal"]
        today = date.today()
        cls.coping, cls.sleep, cls.met = Goal.create(
            [
                {
                    "partner_id": cls.clients[0].id,
                    "problem": "Anxiety",
                    "name": "Uses two coping skills when anxious, 4 of 7 days",
                    "date_start": today - timedelta(days=30),
                    "date_target": today + timedelta(days=60),
                    "sequence": 1,
                },
                {
                    "partner_id": cls.clients[0].id,
                    "problem": "Insomnia",
                    "name": "Sleeps six hours, 5 of 7 nights",
                    "sequence": 2,
                },
                {
                    "partner_id": cls.clients[0].id,
                    "problem": "Anxiety",
                    "name": "Names three triggers",
                    "state": "met",
                },
            ]
        )
        cls.craving = Goal.create(
            {"partner_id": cls.clients[1].id, "problem": "Alcohol use", "name": "Logs cravings"}
        )

    def _goal_line(self, wizard, goal):
        return wizard.line_ids.goal_line_ids.filtered(lambda goal_line: goal_line.goal_id == goal)

    def _rate(self, wizard, goal, rating, comment=False):
        self._goal_line(wizard, goal).write({"rating": rating, "comment": comment})

    def test_each_client_line_offers_that_clients_active_goals(self):
        wizard = self._open_wizard()
        by_client = {line.partner_id: line.goal_line_ids.goal_id for line in wizard.line_ids}
        self.assertEqual(list(by_client[self.clients[0]]), [self.coping, self.sleep])
        self.assertEqual(by_client[self.clients[1]], self.craving)
        self.assertFalse(by_client[self.clients[3]], "no plan, no goals")
        line = self._goal_line(wizard, self.coping)
        self.assertEqual(
            (line.problem, line.goal_name, line.date_target),
            ("Anxiety", self.coping.name, self.coping.date_target),
        )

    def test_progress_goes_into_that_clients_note_only(self):
        wizard = self._open_wizard()
        wizard.group_note = "<p>Practised grounding.</p>"
        self._rate(wizard, self.coping, "progressing", "Used box breathing twice")
        self._rate(wizard, self.craving, "no_change")
        wizard.action_review()
        own = html2plaintext(self._note(self.clients[0]).body)
        self.assertIn("Treatment plan progress", own)
        self.assertIn(self.coping.name, own)
        self.assertIn("Progressing", own)
        self.assertIn("Used box breathing twice", own)
        self.assertNotIn(self.sleep.name, own, "a goal left unrated is not in the note")
        self.assertNotIn(self.craving.name, own, "never another client's goal")
        other = html2plaintext(self._note(self.clients[1]).body)
        self.assertIn(self.craving.name, other)
        self.assertIn("No change", other)
        self.assertNotIn(self.coping.name, other)
        self.assertNotIn("box breathing", other)
        self.assertNotIn("Treatment plan progress", self._note(self.clients[3]).body)
        for note in self.session.therapy_chart_note_ids:
            self.assertNotIn("box breathing", html2plaintext(note.group_note or ""))

    def test_progress_survives_closing_and_reopening(self):
        wizard = self._open_wizard()
        self._rate(wizard, self.sleep, "regressing", "Night shifts again")
        wizard.action_keep_drafts()
        reopened = self._open_wizard()
        line = self._goal_line(reopened, self.sleep)
        self.assertEqual((line.rating, line.comment), ("regressing", "Night shifts again"))
        self.assertFalse(self._goal_line(reopened, self.coping).rating)
        # A goal closed meanwhile stays on the page with what the draft records.
        self.sleep.state = "discontinued"
        line = self._goal_line(self._open_wizard(), self.sleep)
        self.assertEqual(line.rating, "regressing")
        # Cleared on the page, gone from the note.
        line.write({"rating": False, "comment": False})
        line.line_id.wizard_id.action_review()
        self.assertNotIn("Night shifts", self._note(self.clients[0]).body)
        self.assertFalse(self._note(self.clients[0]).goal_progress_ids)

    def test_signed_progress_never_changes(self):
        wizard = self._open_wizard()
        wizard.group_note = "<p>Practised grounding.</p>"
        self._rate(wizard, self.coping, "met", "Reported daily use")
        wizard.action_review()
        wizard._sign()
        note = self._note(self.clients[0])
        progress = note.goal_progress_ids
        self.assertEqual((progress.goal_id, progress.rating), (self.coping, "met"))
        self.assertIn("Reported daily use", note.body)
        self.assertTrue(note.hash_verified)
        report = self.env.ref("group_therapy.therapy_chart_note_report")
        html, _kind = report.with_user(self.provider)._render_qweb_html(report, note.ids)
        self.assertIn("Reported daily use", html.decode(), "in the PDF")
        # Over RPC as the provider who signed, and even as an administrator.
        for user in (self.provider, self.manager):
            with self.subTest(user=user.name):
                with self.assertRaises(UserError):
                    progress.with_user(user).write({"rating": "regressing"})
                with self.assertRaises(UserError):
                    progress.with_user(user).unlink()
                with self.assertRaises(UserError):
                    note.with_user(user).write(
                        {"goal_progress_ids": [Command.update(progress.id, {"comment": "x"})]}
                    )
        with self.assertRefused(UserError, "can no longer change"):
            progress.sudo().write({"comment": "Rewritten"})
        self.assertEqual(progress.comment, "Reported daily use")
        # The goal keeps the history and cannot be erased.
        self.assertEqual(self.coping.with_user(self.provider).progress_ids, progress)
        with self.assertRefused(UserError, "set its status to Met"):
            self.coping.with_user(self.provider).unlink()

    def test_progress_waits_with_the_note_for_the_cosignature(self):
        """A pre-licensed provider's signed note waits for the co-signature with its progress
        frozen; returned for changes, the progress comes back to the page with the draft."""
        supervisor = new_test_user(
            self.env,
            "gt_goal_supervisor",
            groups="group_therapy.group_therapy_provider",
            name="Supervisor Sue",
        )
        self.provider.therapy_supervisor_id = supervisor
        wizard = self._open_wizard()
        wizard.group_note = "<p>Practised grounding.</p>"
        self._rate(wizard, self.coping, "progressing", "Breathing")
        wizard.action_review()
        wizard._sign()
        note = self._note(self.clients[0])
        self.assertEqual(note.state, "to_cosign")
        with self.assertRefused(UserError, "can no longer change"):
            note.goal_progress_ids.sudo().write({"comment": "Rewritten"})
        note.with_user(supervisor)._return_to_signer("Say which skills.")
        reopened = self._open_wizard()
        line = self._goal_line(reopened, self.coping)
        self.assertEqual((line.rating, line.comment), ("progressing", "Breathing"))
        line.comment = "Box breathing and grounding"
        reopened.action_review()
        self.assertIn("Box breathing and grounding", self._note(self.clients[0]).body)

    def test_the_last_signed_progress_is_recalled(self):
        wizard = self._open_wizard()
        wizard.group_note = "<p>Practised grounding.</p>"
        self._rate(wizard, self.coping, "progressing")
        wizard.action_review()
        wizard._sign()
        other_session = self._make_session(self.group, days=-2)
        other_session.action_mark_all_attended()
        reopened = self._open_wizard(session=other_session)
        self.assertIn("Progressing on", self._goal_line(reopened, self.coping).last_progress)
        self.assertFalse(self._goal_line(reopened, self.sleep).last_progress)

    def test_progress_on_another_clients_goal_is_refused(self):
        wizard = self._open_wizard()
        own_line = wizard.line_ids.filtered(lambda line: line.partner_id == self.clients[0])
        with self.assertRefused(ValidationError, "is not in Client 01's treatment plan"):
            own_line.write(
                {"goal_line_ids": [Command.create({"goal_id": self.craving.id, "rating": "met"})]}
            )
        # A goal of a client the provider does not serve: its text is never shown.
        foreign = self.env["therapy.treatment.goal"].create(
            {"partner_id": self.clients[4].id, "problem": "Grief", "name": "Visits the grave"}
        )
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            own_line.write({"goal_line_ids": [Command.create({"goal_id": foreign.id})]})
        # Nor can the progress rows be written directly.
        with self.assertRaises(UserError):
            self.env["therapy.treatment.goal.progress"].with_user(self.provider).create(
                {
                    "note_id": self._chart().note_ids[:1].id,
                    "goal_id": self.coping.id,
                    "rating": "met",
                }
            )

    def test_a_comment_needs_a_rating(self):
        wizard = self._open_wizard()
        self._goal_line(wizard, self.coping).comment = "Came late"
        with self.assertRefused(UserError, "Rate Client 01's progress"):
            wizard.action_review()

    def test_refusals_never_quote_a_goals_text(self):
        """A goal's text is clinical and an error message is not on the access log: a refusal
        names the goal by its place on the client's line or by its dates, and says what to do."""
        wizard = self._open_wizard()
        own_line = wizard.line_ids.filtered(lambda line: line.partner_id == self.clients[0])
        Progress = self.env["therapy.treatment.goal.progress"].with_user(self.provider)
        refusals = {
            "goal of another client on the page": (
                ValidationError,
                "chart each goal on its own client's line",
                lambda: own_line.write(
                    {"goal_line_ids": [Command.create({"goal_id": self.craving.id})]}
                ),
            ),
            "goal of another client charted": (
                UserError,
                "Goal 2 of 2 on Client 01's line is not in Client 01's treatment plan",
                lambda: Progress._therapy_check_entries(
                    {self.clients[0]: [(self.coping, "met", ""), (self.craving, "met", "")]}
                ),
            ),
            "comment without a rating": (
                UserError,
                "Rate Client 01's progress on goal 2 of 2",
                lambda: Progress._therapy_check_entries(
                    {self.clients[0]: [(self.coping, "met", ""), (self.sleep, False, "Late")]}
                ),
            ),
            "comment too long": (
                UserError,
                "The comment on goal 1 of 2 of Client 01 is 501 characters long",
                lambda: Progress._therapy_check_entries(
                    {self.clients[0]: [(self.coping, "met", "x" * 501), (self.sleep, False, "")]}
                ),
            ),
            "target date before the start": (
                ValidationError,
                "choose a later target date",
                lambda: self.coping.with_user(self.provider).write(
                    {"date_target": self.coping.date_start - timedelta(days=1)}
                ),
            ),
        }
        for case, (exception, message, call) in refusals.items():
            with self.subTest(case=case):
                with self.assertRefused(exception, message) as catcher:
                    call()
                self._assertNoGoalText(str(catcher.exception))

        # Progress signed with the note, and progress put in another client's note (server
        # paths: nobody writes the rows over RPC).
        self._rate(wizard, self.coping, "met")
        wizard.group_note = "<p>Practised grounding.</p>"
        wizard.action_review()
        wizard._sign()
        progress = self._note(self.clients[0]).goal_progress_ids
        with self.assertRefused(UserError, "Add an addendum to the note instead") as catcher:
            progress.sudo().write({"comment": "Rewritten"})
        self._assertNoGoalText(str(catcher.exception))
        draft = self._chart(session=self._another_session()).note_ids.filtered(
            lambda note: note.partner_id == self.clients[0]
        )
        with self.assertRefused(ValidationError, "cannot be charted in Client 01's note") as c:
            self.env["therapy.treatment.goal.progress"].sudo().create(
                {"note_id": draft.id, "goal_id": self.craving.id, "rating": "met"}
            )
        self._assertNoGoalText(str(c.exception))

    def _another_session(self):
        session = self._make_session(self.group, days=-2)
        session.action_mark_all_attended()
        return session

    def _assertNoGoalText(self, message):
        for goal in self.coping | self.sleep | self.craving:
            self.assertNotIn(goal.name, message)
            self.assertNotIn(goal.problem, message)
