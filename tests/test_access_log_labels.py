"""Clinical text shown on other records is on the access log.

A treatment-plan goal is named by its own text: wherever another record shows a goal (a many2one
label, a related field, a group, an export column), the goals whose text was handed out are
logged, once per call, in one INSERT; routes that hand out only ids log nothing.
"""

from odoo.tests import tagged

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
