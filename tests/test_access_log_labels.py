"""Clinical text shown on other records is on the access log.

A treatment-plan goal is named by its own text: wherever another record shows a goal (a many2one
label, a related field, a group, an export column), the goals whose text was handed out are
logged, once per call, in one INSERT; routes that hand out only ids log nothing.
"""

import warnings

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_access_log import AccessLogCommon

LABEL = {"fields": {"display_name": {}}}


@tagged("post_install", "-at_install")
class TestAccessLogGoalLabels(AccessLogCommon):
    """A session where ten goals of four clients were rated: ten progress rows, signed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Goal = cls.env["therapy.treatment.goal"]
        cls.goals = Goal.create(
            [
                {
                    "partner_id": client.id,
                    "problem": f"Problem {index}",
                    "name": f"Coping goal {index} of {client.name}",
                    "sequence": index,
                }
                for client, count in zip(cls.clients[:4], (3, 3, 2, 2), strict=True)
                for index in range(count)
            ]
        )
        cls.rated_session = cls._make_session(cls.group, days=-2)
        cls.rated_session.action_mark_all_attended()
        cls.wizard = cls._open_wizard(session=cls.rated_session)
        cls.wizard.group_note = "<p>Practised grounding.</p>"
        for goal_line in cls.wizard.line_ids.goal_line_ids:
            goal_line.write({"rating": "progressing", "comment": "Tried it twice"})
        cls.wizard.action_review()
        cls.wizard._sign()
        cls.progress = cls.rated_session.therapy_chart_note_ids.goal_progress_ids
        cls.Progress = cls.env["therapy.treatment.goal.progress"].with_user(cls.provider)

    def _call(self, call):
        """Run call() as an RPC client would; return its result, the INSERTs into the log and
        the lines written."""
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
        self.env.invalidate_all()
        with self._log_inserts() as inserts:
            result = call()
        return result, inserts, self._new_lines()

    def assertLogsGoals(self, call, goals, access_type="read", detail="display_name", user=None):
        result, inserts, lines = self._call(call)
        self.assertEqual(len(inserts), 1, "one INSERT per call")
        self.assertLogged(lines, user or self.provider, access_type, goals, detail)
        return result

    def assertLogsNothing(self, call):
        result, inserts, lines = self._call(call)
        self.assertFalse(inserts)
        self.assertFalse(lines)
        return result

    def test_setup(self):
        self.assertEqual(len(self.progress), 10)
        self.assertEqual(self.progress.goal_id, self.goals)

    def test_every_model_showing_goals_logs_them(self):
        """A model with a many2one to goals sends their names: it logs them."""
        Reference = self.env.registry["therapy.clinical.reference.mixin"]
        for name in self.env.registry:
            Model = self.env[name]
            if Model._abstract or not any(
                field.type == "many2one" and field.comodel_name == "therapy.treatment.goal"
                for field in Model._fields.values()
            ):
                continue
            with self.subTest(model=name):
                self.assertIsInstance(Model, Reference)

    def test_goal_labels_on_progress_rows_are_logged(self):
        rows = self.Progress.browse(self.progress[:3].ids)
        goals = self.progress[:3].goal_id
        domain = [("id", "in", rows.ids)]
        routes = {
            "read": lambda: rows.read(["goal_id", "rating"]),
            "search_read": lambda: self.Progress.search_read(domain, ["goal_id", "rating"]),
            "web_read": lambda: rows.web_read({"goal_id": LABEL, "rating": {}}),
            "web_search_read": lambda: self.Progress.web_search_read(
                domain, {"goal_id": LABEL, "rating": {}}
            ),
            "formatted_read_group": lambda: self.Progress.formatted_read_group(
                domain, ["goal_id"], ["__count"]
            ),
            "web_read_group": lambda: self.Progress.web_read_group(
                domain, ["goal_id"], ["__count"]
            ),
        }
        for route, call in routes.items():
            with self.subTest(route=route):
                result = self.assertLogsGoals(call, goals)
                self.assertIn("Coping goal", str(result), "the goal's text was handed out")

    def test_goal_label_read_with_the_goal_text_is_one_line_per_goal(self):
        rows = self.Progress.browse(self.progress[:3].ids)
        self.assertLogsGoals(
            lambda: rows.web_read(
                {"goal_id": {"fields": {"display_name": {}, "problem": {}}}, "rating": {}}
            ),
            self.progress[:3].goal_id,
            detail="problem, display_name",
        )

    def test_goals_own_name_is_logged(self):
        Goal = self.env["therapy.treatment.goal"].with_user(self.provider)
        goals = Goal.browse(self.goals[:3].ids)
        for route, call in {
            "read": lambda: goals.read(["display_name"]),
            "web_read": lambda: goals.web_read({"display_name": {}, "state": {}}),
            "search_read": lambda: Goal.search_read(
                [("id", "in", goals.ids)], ["display_name", "state"]
            ),
        }.items():
            with self.subTest(route=route):
                self.assertLogsGoals(call, self.goals[:3])

    def test_exporting_goal_labels_is_logged(self):
        """Administrators export (Odoo's export privilege)."""
        Progress = self.env["therapy.treatment.goal.progress"].with_user(self.manager)
        rows = Progress.browse(self.progress[:3].ids)
        goals = self.progress[:3].goal_id
        datas = self.assertLogsGoals(
            lambda: rows.export_data(["goal_id", "rating"]), goals, "export", user=self.manager
        )
        self.assertIn("Coping goal", str(datas["datas"]))
        self.assertLogsGoals(
            lambda: self.env["therapy.treatment.goal"]
            .with_user(self.manager)
            .browse(goals.ids)
            .export_data(["display_name", "state"]),
            goals,
            "export",
            user=self.manager,
        )
        self.assertLogsNothing(lambda: rows.export_data(["rating", "goal_id/.id"]))

    def test_routes_without_the_goals_text_log_nothing(self):
        rows = self.Progress.browse(self.progress[:3].ids)
        domain = [("id", "in", rows.ids)]
        for route, call in {
            "read": lambda: rows.read(["rating", "session_date"]),
            "web_read of ids": lambda: rows.web_read({"goal_id": {}, "rating": {}}),
            "read without labels": lambda: rows.read(["goal_id"], load=None),
            "search_read": lambda: self.Progress.search_read(domain, ["rating"]),
            "group by rating": lambda: self.Progress.formatted_read_group(
                domain, ["rating"], ["__count"]
            ),
            "goals without text": lambda: self.env["therapy.treatment.goal"]
            .with_user(self.provider)
            .browse(self.goals.ids)
            .read(["state", "date_target"]),
        }.items():
            with self.subTest(route=route):
                self.assertLogsNothing(call)

    @staticmethod
    def _grouping_routes(Model, domain, groupby):
        """Every RPC route that groups records, grouping ``Model`` by ``groupby``."""

        def read_group(lazy=True):
            # deprecated since 19.0, still served over RPC
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return Model.read_group(domain, [], groupby, lazy=lazy)

        return {
            "read_group": read_group,
            "read_group, not lazy": lambda: read_group(lazy=False),
            "formatted_read_group": lambda: Model.formatted_read_group(
                domain, groupby, ["__count"]
            ),
            "formatted_read_grouping_sets": lambda: Model.formatted_read_grouping_sets(
                domain, [groupby, []], ["__count"]
            ),
            "web_read_group": lambda: Model.web_read_group(domain, groupby, ["__count"]),
            "web_read_group, unfolded": lambda: Model.web_read_group(
                domain, groupby, ["__count"], auto_unfold=True
            ),
        }

    def _page_goal_lines(self):
        """The goal lines of a charting page the provider opened (every client's goals)."""
        session = self._make_session(self.group, days=-3)
        session.action_mark_all_attended()
        return self._open_wizard(session=session).line_ids.goal_line_ids

    def test_grouping_by_goal_logs_the_goals_naming_the_groups(self):
        """A group by goal is named by the goal's text: every grouping route logs the goals
        whose name it handed out, as the provider, in one INSERT; as a sub-group too."""
        page_lines = self._page_goal_lines()
        for Model, records in (
            (self.Progress, self.progress[:3]),
            (page_lines.browse(), page_lines[:3]),
        ):
            domain = [("id", "in", records.ids)]
            for groupby in (["goal_id"], ["rating", "goal_id"]):
                routes = self._grouping_routes(Model, domain, groupby)
                if groupby[0] != "goal_id":
                    # A lazy read_group sends only the first level; a web_read_group sends the
                    # sub-groups of the groups it unfolds.
                    routes = {
                        route: call
                        for route, call in routes.items()
                        if route in ("read_group, not lazy", "formatted_read_group")
                        or route.endswith("unfolded")
                        or route.startswith("formatted_read_grouping")
                    }
                for route, call in routes.items():
                    with self.subTest(model=Model._name, groupby=groupby, route=route):
                        result = self.assertLogsGoals(call, records.goal_id)
                        self.assertIn("Coping goal", str(result), "the goal's text was sent")

    def test_grouping_without_the_goals_text_logs_nothing(self):
        """Groups named by a rating, a day, a note or a client hand out no clinical text; as
        the provider, and as the front desk (who reads goals, not the progress charted)."""
        domain = [("id", "in", self.progress[:3].ids)]
        for groupby in (["rating"], ["session_date:day"], ["note_id"], ["partner_id"]):
            for route, call in self._grouping_routes(self.Progress, domain, groupby).items():
                with self.subTest(groupby=groupby, route=route):
                    self.assertTrue(self.assertLogsNothing(call))
        Goal = self.env["therapy.treatment.goal"].with_user(self.front_desk)
        domain = [("id", "in", self.goals.ids)]
        for groupby in (["partner_id"], ["state"], ["date_target:month"]):
            for route, call in self._grouping_routes(Goal, domain, groupby).items():
                with self.subTest(user="front desk", groupby=groupby, route=route):
                    self.assertTrue(self.assertLogsNothing(call))

    def test_grouping_by_clinical_text_is_refused_and_logs_nothing(self):
        """Grouping by a goal's text or a progress comment would name each group by it: refused
        on every route, to the provider and the front desk; the front desk, who has no access
        to progress rows, gets no group by goal either."""
        Goal = self.env["therapy.treatment.goal"]
        cases = [
            (user, Goal.with_user(user), [("id", "in", self.goals.ids)], [fname])
            for user in (self.provider, self.front_desk)
            for fname in ("problem", "name")
        ] + [
            (self.provider, self.Progress, [("id", "in", self.progress.ids)], ["comment"]),
            (
                self.front_desk,
                self.Progress.with_user(self.front_desk),
                [("id", "in", self.progress.ids)],
                ["goal_id"],
            ),
        ]
        for user, Model, domain, groupby in cases:
            for route, call in self._grouping_routes(Model, domain, groupby).items():
                with self.subTest(user=user.name, model=Model._name, groupby=groupby, route=route):

                    def refused(call=call):
                        with self.assertRaises(AccessError), mute_logger("odoo.models"):
                            call()

                    self.assertLogsNothing(refused)

    def test_the_charting_page_logs_the_goals_it_shows(self):
        session = self._make_session(self.group, days=-3)
        session.action_mark_all_attended()
        wizard = self._open_wizard(session=session)
        spec = {
            "line_ids": {
                "fields": {
                    "partner_id": LABEL,
                    "goal_line_ids": {
                        "fields": {
                            "goal_id": LABEL,
                            "problem": {},
                            "goal_name": {},
                            "rating": {},
                        }
                    },
                }
            }
        }
        values = self.assertLogsGoals(
            lambda: wizard.web_read(spec), self.goals, detail="problem, name, display_name"
        )
        self.assertIn("Coping goal", str(values))

        # a new line of the page: the onchange answers with the goal's text
        GoalLine = self.env["therapy.charting.wizard.goal"].with_user(self.provider)
        answer = self.assertLogsGoals(
            lambda: GoalLine.onchange(
                {"goal_id": self.goals[0].id},
                [],
                {"goal_id": LABEL, "goal_name": {}, "rating": {}},
            ),
            self.goals[0],
            detail="name, display_name",
        )
        self.assertEqual(answer["value"]["goal_name"], self.goals[0].name)

    def test_comments_opened_from_a_draft_are_logged_under_its_progress(self):
        """Reopened on drafts, the page shows each goal's comment as their progress rows
        record it: reading it is reading those rows; a comment typed on a blank line is not."""
        session = self._make_session(self.group, days=-4)
        session.action_mark_all_attended()
        wizard = self._open_wizard(session=session)
        wizard.group_note = "<p>Practised grounding.</p>"
        rated = wizard.line_ids.goal_line_ids[:3]
        rated[:2].write({"rating": "progressing", "comment": "Tried it twice"})
        rated[2].rating = "met"
        wizard.action_review()
        drafts = session.therapy_chart_note_ids
        with_comment = drafts.goal_progress_ids.filtered("comment")
        self.assertEqual(len(with_comment), 2)
        page = self._open_wizard(session=session)
        self.assertEqual(page.line_ids.goal_line_ids.loaded_progress_id, with_comment)
        GoalLine = self.env["therapy.charting.wizard.goal"].with_user(self.provider)
        domain = [("line_id.wizard_id", "=", page.id)]
        for route, call in {
            "search_read": lambda: GoalLine.search_read(domain, ["comment", "rating"]),
            "read": lambda: page.line_ids.goal_line_ids.read(["comment"]),
            "web_read": lambda: page.line_ids.goal_line_ids.web_read({"comment": {}}),
        }.items():
            with self.subTest(route=route):
                values = self.assertLogsGoals(call, with_comment, detail="comment")
                self.assertIn("Tried it twice", str(values))
        # the whole page: the drafts, the goals and the comments, in one INSERT
        self.env.invalidate_all()
        with self._log_inserts() as inserts:
            page.web_read(
                {
                    "group_note": {},
                    "line_ids": {"fields": {"goal_line_ids": {"fields": {"comment": {}}}}},
                }
            )
        self.assertEqual(len(inserts), 1)
        self.assertEqual(
            {(line.res_model, line.res_id) for line in self._new_lines()},
            {(record._name, record.id) for record in [*drafts, *with_comment]},
        )
        # typed on a page opened blank, the comment is the user's own: nothing to log
        blank_session = self._make_session(self.group, days=-5)
        blank_session.action_mark_all_attended()
        blank = self._open_wizard(session=blank_session)
        blank.line_ids.goal_line_ids[:1].comment = "Typed now"
        self.assertLogsNothing(lambda: blank.line_ids.goal_line_ids.read(["comment"]))
        # nor set from outside, nor grouped by
        with self.assertRefused(UserError, "set by the application"):
            blank.line_ids.goal_line_ids[:1].write({"loaded_progress_id": with_comment[0].id})
        for route, call in self._grouping_routes(GoalLine, domain, ["comment"]).items():
            with self.subTest(route=route):

                def refused(call=call):
                    with self.assertRaises(AccessError), mute_logger("odoo.models"):
                        call()

                self.assertLogsNothing(refused)

    def test_one_insert_and_the_same_queries_for_3_or_10_rows(self):
        spec = {"goal_id": LABEL, "rating": {}, "session_date": {}}

        def open_rows(progress):
            rows = self.Progress.browse(progress.ids)
            with self._log_inserts() as inserts:
                queries = self._queries(lambda: rows.web_read(spec))
            return queries, len(inserts)

        open_rows(self.progress)  # warm the caches (access rules, fields)
        few = open_rows(self.progress[:3])
        many = open_rows(self.progress)
        self.assertEqual(few, many)
        self.assertEqual(few[1], 1)


# What the charting page reads when it opens (see therapy_charting_wizard_views.xml).
CHARTING_PAGE = {
    "step": {},
    "event_id": LABEL,
    "template_id": LABEL,
    "group_note": {},
    "section_line_ids": {"fields": {"name": {}, "content": {}, "hint": {}}},
    "line_ids": {
        "fields": {
            "partner_id": LABEL,
            "product_id": LABEL,
            "note": {},
            "goal_line_ids": {"fields": {"goal_id": LABEL, "goal_name": {}, "rating": {}}},
        }
    },
}


@tagged("post_install", "-at_install")
class TestAccessLogChartingPage(AccessLogCommon):
    """Chart on a session with drafts opens the page with their text: reading the page is
    reading those notes. Ten more clients make a session of ten and one of three, both with
    drafts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        more = cls.env["res.partner"].create([{"name": f"Client {n}"} for n in range(7, 13)])
        cls.env["therapy.group.member"].create(
            [
                {"group_id": cls.group.id, "partner_id": client.id, "date_start": date}
                for client in more
                for date in [cls.group.member_ids[:1].date_start]
            ]
        )
        cls.members = cls.clients[:4] | more
        cls.big, cls.small = (cls._make_session(cls.group, days=days) for days in (-2, -3))
        for client in cls.members[3:]:
            cls._answer(cls.small, client, "absent", cls.no_show)
        for session in cls.big | cls.small:
            session.action_mark_all_attended()
            cls._chart(
                session=session,
                client_notes={
                    cls.members[1]: "<p>Asked about a referral.</p>",
                    cls.members[2]: "<p>Left early, felt unwell.</p>",
                },
            )

    def _drafts(self, session, clients=None):
        return session.therapy_chart_note_ids.filtered(
            lambda note: clients is None or note.partner_id in clients
        )

    def _open(self, session):
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
        return self._open_wizard(session=session)

    def test_opening_the_page_logs_the_drafts_it_shows(self):
        wizard = self._open(self.small)
        self.assertFalse(self._new_lines(), "opening Chart creates the page: nothing read yet")
        with self._log_inserts() as inserts:
            values = wizard.web_read(CHARTING_PAGE)
        self.assertIn("distress tolerance", values[0]["group_note"])
        self.assertEqual(len(inserts), 1, "the page, its lines and sections: one INSERT")
        lines = self._new_lines()
        drafts = self._drafts(self.small)
        self.assertEqual(len(drafts), 3)
        self.assertLogged(lines, self.provider, "read", drafts)
        self._assert_client_notes_logged(lines)

    def _assert_client_notes_logged(self, lines):
        """Each draft logged for the group notes, and for its own note where the client has
        one (clients 2 and 3 of the small session)."""
        with_note = self._drafts(self.small, self.members[1:3])
        for line in lines:
            with self.subTest(client=line.partner_id.name):
                expected = (
                    "group_note, client_note" if line.res_id in with_note.ids else "group_note"
                )
                self.assertEqual(line.detail, expected)

    def test_sections_written_before_are_logged_with_their_notes(self):
        template = self.env["therapy.chart.template"].create(
            {"name": "With a risk section", "section_ids": [(0, 0, {"name": "Risk"})]}
        )
        session = self._make_session(self.group, days=-4)
        session.action_mark_all_attended()
        wizard = self._open_wizard(session=session)
        wizard.template_id = template
        wizard._onchange_template_id()
        wizard.section_line_ids.content = "<p>No ideation reported.</p>"
        wizard.action_review()
        page = self._open(session)
        values = page.section_line_ids.read(["name", "content"])
        self.assertIn("No ideation", values[0]["content"])
        self.assertLogged(
            self._new_lines(), self.provider, "read", self._drafts(session), "section_contents"
        )

    def test_rpc_reads_of_the_page_log_the_notes_whose_text_they_return(self):
        wizard = self._open(self.small)
        wizard.read(["group_note"])
        self.assertLogged(
            self._new_lines(), self.provider, "read", self._drafts(self.small), "group_note"
        )
        self.last_log_id = self._new_lines()[-1:].id
        self.env["therapy.charting.wizard.line"].with_user(self.provider).search_read(
            [("wizard_id", "=", wizard.id)], ["partner_id", "note"]
        )
        self.assertLogged(
            self._new_lines(),
            self.provider,
            "read",
            self._drafts(self.small, self.members[1:3]),
            "client_note",
        )

    def test_reading_the_page_without_the_text_logs_nothing(self):
        wizard = self._open(self.small)
        fresh = self._make_session(self.group, days=-4)
        fresh.action_mark_all_attended()
        blank = self._open_wizard(session=fresh)
        with self._log_inserts() as inserts:
            wizard.web_read({"step": {}, "event_id": LABEL, "line_ids": {"fields": {}}})
            wizard.line_ids.read(["partner_id", "product_id"])
            blank.web_read(CHARTING_PAGE)
        self.assertFalse(inserts)
        self.assertFalse(self._new_lines())

    def test_what_the_page_was_opened_with_is_set_by_the_server(self):
        Wizard = self.env["therapy.charting.wizard"].with_user(self.provider)
        with self.assertRefused(UserError, "set by the application"):
            Wizard.create({"event_id": self.small.id, "loaded_note_ids": [(6, 0, self.notes.ids)]})
        wizard = self._open(self.small)
        with self.assertRefused(UserError, "set by the application"):
            wizard.line_ids[:1].write({"loaded_note_id": self.note.id})

    def test_text_typed_again_is_logged_under_the_notes_the_page_opened_with(self):
        """Documented over-logging: the page does not tell the text it was opened with from
        text typed over it; reading it logs the notes it was opened with, whatever it shows."""
        wizard = self._open(self.small)
        wizard.group_note = "<p>Typed again: a new exercise.</p>"
        for line in wizard.line_ids:
            line.note = "<p>Typed again for this client.</p>" if line.note else False
        self.env.invalidate_all()
        with self._log_inserts() as inserts:
            values = wizard.web_read(CHARTING_PAGE)
        self.assertIn("Typed again", values[0]["group_note"])
        self.assertNotIn("distress tolerance", str(values))
        self.assertEqual(len(inserts), 1)
        lines = self._new_lines()
        self.assertLogged(lines, self.provider, "read", self._drafts(self.small))
        self._assert_client_notes_logged(lines)

    def test_one_insert_and_the_same_queries_for_3_or_10_clients(self):
        def open_page(session):
            wizard = self._open_wizard(session=session)
            with self._log_inserts() as inserts:
                queries = self._queries(lambda: wizard.web_read(CHARTING_PAGE))
            return queries, len(inserts)

        open_page(self.small)  # warm the caches (access rules, fields)
        few = open_page(self.small)
        many = open_page(self.big)
        self.assertEqual(few, many)
        self.assertEqual(few[1], 1)


@tagged("post_install", "-at_install")
class TestAccessLogLateEntry(AccessLogCommon):
    """Client 03, a no-show, is found to have attended after the notes were signed: Chart opens
    the late-entry page, which starts from the signed notes' group notes and shows client 03's
    goals (see tests/test_late_entry.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late_client = cls.clients[2]
        cls._answer(cls.session, cls.late_client, "attended", cls.cpt_90853)
        Goal = cls.env["therapy.treatment.goal"]
        cls.late_goals = Goal.create(
            [
                {"partner_id": cls.late_client.id, "problem": "Anxiety", "name": f"Late goal {n}"}
                for n in range(2)
            ]
        )
        # a goal of a client whose note is signed: not on the late-entry page
        cls.signed_goal = Goal.create(
            {"partner_id": cls.clients[0].id, "problem": "Anxiety", "name": "Signed goal"}
        )

    def _open(self):
        wizard = self._open_wizard()
        self.assertTrue(wizard.late_entry)
        self.assertEqual(wizard.line_ids.partner_id, self.late_client)
        self.assertEqual(wizard.loaded_note_ids, self.notes, "opened on the signed notes")
        self.assertFalse(self._new_lines(), "opening Chart creates the page: nothing read yet")
        self.env.invalidate_all()
        return wizard

    def _logged(self, call):
        """Run call(); return its result and the lines written, by model, after checking
        that they were written in one INSERT, for the provider, as reads."""
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
        with self._log_inserts() as inserts:
            result = call()
        self.assertEqual(len(inserts), 1, "one INSERT per call")
        lines = self._new_lines()
        self.assertEqual(set(lines.user_id), {self.provider})
        self.assertEqual(set(lines.mapped("access_type")), {"read"})
        return result, {
            model: lines.filtered(lambda line, model=model: line.res_model == model)
            for model in ("therapy.chart.note", "therapy.treatment.goal")
        }

    def test_opening_the_late_entry_logs_the_signed_notes_and_goals_it_shows(self):
        wizard = self._open()
        values, lines = self._logged(lambda: wizard.web_read(CHARTING_PAGE))
        self.assertIn("distress tolerance", values[0]["group_note"])
        self.assertIn("Late goal 0", str(values))
        self.assertNotIn("Signed goal", str(values))
        self.assertLogged(
            lines["therapy.chart.note"], self.provider, "read", self.notes, "group_note"
        )
        self.assertLogged(lines["therapy.treatment.goal"], self.provider, "read", self.late_goals)

    def test_rpc_reads_of_the_late_entry_log_what_they_return(self):
        wizard = self._open()
        _values, lines = self._logged(lambda: wizard.read(["group_note"]))
        self.assertLogged(
            lines["therapy.chart.note"], self.provider, "read", self.notes, "group_note"
        )
        self.assertFalse(lines["therapy.treatment.goal"])
        GoalLine = self.env["therapy.charting.wizard.goal"].with_user(self.provider)
        values, lines = self._logged(
            lambda: GoalLine.search_read([("line_id.wizard_id", "=", wizard.id)], ["goal_id"])
        )
        self.assertEqual({value["goal_id"][1] for value in values}, {"Late goal 0", "Late goal 1"})
        self.assertFalse(lines["therapy.chart.note"])
        self.assertLogged(
            lines["therapy.treatment.goal"], self.provider, "read", self.late_goals, "display_name"
        )

    def test_the_late_entry_reopened_logs_its_own_draft(self):
        """Reviewed, the late entry is a draft: the page reopens on it, not on the signed
        notes, and logs it (the group notes and the client's own note it shows)."""
        wizard = self._open()
        wizard.line_ids.note = "<p>Arrived after check-in.</p>"
        wizard.action_review()
        draft = self._note(self.late_client)
        self.assertEqual(draft.state, "draft")
        reopened = self._open_wizard()
        self.assertEqual(reopened.loaded_note_ids, draft)
        self.env.invalidate_all()
        values, lines = self._logged(lambda: reopened.web_read(CHARTING_PAGE))
        self.assertIn("Arrived after check-in", str(values))
        self.assertLogged(
            lines["therapy.chart.note"], self.provider, "read", draft, "group_note, client_note"
        )
        self.assertLogged(lines["therapy.treatment.goal"], self.provider, "read", self.late_goals)


@tagged("post_install", "-at_install")
class TestAccessLogExportsThroughOtherRecords(AccessLogCommon):
    """Odoo's Export of clients or sessions can reach their notes' text or their goals' names:
    those notes and goals are logged, once per call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.goal = cls.env["therapy.treatment.goal"].create(
            {"partner_id": cls.clients[0].id, "problem": "Anxiety", "name": "Coping goal"}
        )

    def _export(self, records, fields):
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
        with self._log_inserts() as inserts:
            datas = records.with_user(self.manager).export_data(fields)["datas"]
        return datas, inserts, self._new_lines()

    def test_exports_reaching_notes_or_goals_are_logged(self):
        clients = self.clients[:2]
        notes = self.notes.filtered(lambda note: note.partner_id in clients)
        for records, fields, logged, detail, text in (
            (clients, ["name", "therapy_chart_note_ids/body"], notes, "body", "distress"),
            (clients, ["name", "therapy_goal_ids"], self.goal, "display_name", "Coping goal"),
            (clients, ["therapy_goal_ids/problem"], self.goal, "problem", "Anxiety"),
            (
                self.session,
                ["name", "therapy_chart_note_ids/group_note"],
                self.notes,
                "group_note",
                "distress",
            ),
        ):
            with self.subTest(model=records._name, fields=fields):
                datas, inserts, lines = self._export(records, fields)
                self.assertIn(text, str(datas))
                self.assertEqual(len(inserts), 1)
                self.assertLogged(lines, self.manager, "export", logged, detail)

    def test_exports_without_clinical_text_log_nothing(self):
        for records, fields in (
            (self.clients[:2], ["name", "email"]),
            (self.clients[:2], ["therapy_chart_note_ids/state", "therapy_goal_ids/.id"]),
            (self.session, ["name", "therapy_chart_note_ids"]),
        ):
            with self.subTest(model=records._name, fields=fields):
                _datas, inserts, lines = self._export(records, fields)
                self.assertFalse(inserts)
                self.assertFalse(lines)
