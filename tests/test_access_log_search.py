"""The clinical access log: searching notes by their text, and downloading a stored claim
file again (HIPAA audit controls, 45 CFR 164.312(b))."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .test_access_log import NOTE_LIST, AccessLogCommon
from .test_x12_837p import X12Common


@tagged("post_install", "-at_install")
class TestAccessLogSearch(AccessLogCommon):
    """A search on the notes' text tells which clients' notes contain the words: each matching
    note is logged as searched, once per call, in one INSERT; the words are not stored."""

    WORDS = "distress tolerance"  # in the group notes of the session (test_charting)

    def test_every_search_route_logs_the_notes_found(self):
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        domain = [("body", "ilike", self.WORDS)]
        routes = {
            "search": lambda: Note.search(domain),
            "search_count": lambda: Note.search_count(domain),
            "search_read": lambda: Note.search_read(domain, ["state"]),
            "web_search_read": lambda: Note.web_search_read(domain, NOTE_LIST, limit=2),
            "formatted_read_group": lambda: Note.formatted_read_group(
                domain, ["partner_id"], ["__count"]
            ),
            "web_read_group": lambda: Note.web_read_group(domain, ["partner_id"], ["__count"]),
        }
        for route, call in routes.items():
            with self.subTest(route=route):
                self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
                with self._log_inserts() as inserts:
                    call()
                self.assertEqual(len(inserts), 1, "one INSERT per call")
                lines = self._new_lines()
                # web_search_read with a limit of 2 counts the rest: every match is logged
                self.assertLogged(lines, self.provider, "search", self.notes, "body")
                self.assertNotIn("distress", " ".join(lines.mapped("detail")))

    def test_searching_text_and_reading_it_in_one_call(self):
        Note = self.env["therapy.chart.note"].with_user(self.shared_provider)
        with self._log_inserts() as inserts:
            Note.search_read([("body", "ilike", self.WORDS)], ["body"])
        self.assertEqual(len(inserts), 1)
        lines = self._new_lines()
        self.assertLogged(
            lines.filtered(lambda line: line.access_type == "search"),
            self.shared_provider,
            "search",
            self.notes,
        )
        self.assertLogged(
            lines.filtered(lambda line: line.access_type == "read"),
            self.shared_provider,
            "read",
            self.notes,
        )

    def test_addenda_and_clients_searched_by_text(self):
        """A domain through the addenda, or a client's notes, logs what it searched."""
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        self.assertEqual(Note.search([("addendum_ids.body", "ilike", "75 minutes")]), self.note)
        self.assertLogged(self._new_lines(), self.provider, "search", [self.addendum], "body")
        self.last_log_id = self._new_lines()[-1:].id
        Partner = self.env["res.partner"].with_user(self.provider)
        found = Partner.search([("therapy_chart_note_ids.body", "ilike", self.WORDS)])
        self.assertEqual(found, self.notes.partner_id)
        self.assertLogged(self._new_lines(), self.provider, "search", self.notes, "body")

    def test_searches_that_find_nothing_or_not_the_text_log_nothing(self):
        Note = self.env["therapy.chart.note"].with_user(self.provider)
        with self._log_inserts() as inserts:
            self.assertFalse(Note.search([("body", "ilike", "no such words anywhere")]))
            Note.search([("event_id", "=", self.session.id)])
            Note.web_search_read([("partner_id", "=", self.clients[0].id)], NOTE_LIST)
        self.assertFalse(inserts)
        self.assertFalse(self._new_lines())

    def test_other_providers_search_finds_and_logs_nothing(self):
        Note = self.env["therapy.chart.note"].with_user(self.other_provider)
        self.assertFalse(Note.search([("body", "ilike", self.WORDS)]))
        self.assertFalse(self._new_lines())


@tagged("post_install", "-at_install")
class TestAccessLogGoalSearch(AccessLogCommon):
    """Treatment-plan goals are clinical text, and a goal is named by its text: searching goals
    by it (a picker's name_search, a domain on the goal or its name) logs each goal found, once
    per call, in one INSERT; the words are not stored."""

    WORDS = "coping skills"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Goal = cls.env["therapy.treatment.goal"]
        # clients 01 and 02: the provider's shared group; client 05: Other Olga's group alone
        cls.goals = Goal.create(
            [
                {
                    "partner_id": client.id,
                    "problem": "Anxiety",
                    "name": "Uses two coping skills when anxious, 4 of 7 days",
                }
                for client in cls.clients[:2]
            ]
        )
        cls.unrelated_goal = Goal.create(
            {"partner_id": cls.clients[0].id, "problem": "Sleep", "name": "Sleeps 7 hours"}
        )
        cls.others_goal = Goal.create(
            {
                "partner_id": cls.clients[4].id,
                "problem": "Anxiety",
                "name": "Names three coping skills",
            }
        )

    def _assert_one_insert_logging(self, call, user, goals, detail="name"):
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0
        with self._log_inserts() as inserts:
            result = call()
        self.assertEqual(len(inserts), 1, "one INSERT per call")
        lines = self._new_lines()
        self.assertLogged(
            lines.filtered(lambda line: line.access_type == "search"), user, "search", goals, detail
        )
        self.assertNotIn("coping", " ".join(lines.mapped("detail")))
        return result

    def test_every_search_route_logs_the_goals_found(self):
        Goal = self.env["therapy.treatment.goal"].with_user(self.provider)
        domain = [("name", "ilike", self.WORDS)]
        spec = {"partner_id": {"fields": {"display_name": {}}}, "state": {}}
        routes = {
            "name_search": lambda: Goal.name_search(self.WORDS),
            "web_name_search": lambda: Goal.web_name_search(self.WORDS, {"display_name": {}}),
            "search": lambda: Goal.search(domain),
            "search_count": lambda: Goal.search_count(domain),
            "search_read": lambda: Goal.search_read(domain, ["state"]),
            "web_search_read": lambda: Goal.web_search_read(domain, spec, limit=1),
            "formatted_read_group": lambda: Goal.formatted_read_group(
                domain, ["partner_id"], ["__count"]
            ),
            "web_read_group": lambda: Goal.web_read_group(domain, ["partner_id"], ["__count"]),
            "search on the name": lambda: Goal.search([("display_name", "ilike", self.WORDS)]),
            "clients by their goals": lambda: self.env["res.partner"]
            .with_user(self.provider)
            .search([("therapy_goal_ids.name", "ilike", self.WORDS)]),
        }
        for route, call in routes.items():
            with self.subTest(route=route):
                # web_search_read with a limit of 1 counts the rest: every match is logged
                self._assert_one_insert_logging(call, self.provider, self.goals)

    def test_the_picker_logs_the_goals_it_offers(self):
        """Opened without a word typed, the picker still shows the goals' text: each goal it
        offers is logged; the fields shown with it (its name, which is its text, included) are
        read in the same INSERT."""
        Goal = self.env["therapy.treatment.goal"].with_user(self.shared_provider)
        offered = self._assert_one_insert_logging(
            lambda: Goal.web_name_search(
                "",
                {"display_name": {}, "problem": {}},
                domain=[("partner_id", "=", self.clients[0].id)],
            ),
            self.shared_provider,
            self.goals[:1] | self.unrelated_goal,
        )
        self.assertEqual(len(offered), 2)
        self.assertLogged(
            self._new_lines().filtered(lambda line: line.access_type == "read"),
            self.shared_provider,
            "read",
            self.goals[:1] | self.unrelated_goal,
            "display_name, problem",
        )

    def test_searches_that_find_nothing_or_not_the_text_log_nothing(self):
        Goal = self.env["therapy.treatment.goal"].with_user(self.provider)
        with self._log_inserts() as inserts:
            self.assertFalse(Goal.name_search("no such words anywhere"))
            self.assertFalse(Goal.search([("name", "ilike", "no such words anywhere")]))
            Goal.search([("partner_id", "=", self.clients[0].id)])
            Goal.search_read([("state", "=", "active")], ["state", "partner_id"])
        self.assertFalse(inserts)
        self.assertFalse(self._new_lines())

    def test_other_providers_search_logs_only_their_clients_goals(self):
        Goal = self.env["therapy.treatment.goal"].with_user(self.other_provider)
        found = self._assert_one_insert_logging(
            lambda: Goal.name_search(self.WORDS), self.other_provider, self.others_goal
        )
        self.assertEqual([goal_id for goal_id, _name in found], self.others_goal.ids)


@tagged("post_install", "-at_install")
class TestAccessLogClaimFile(HttpCase, X12Common):
    """The 837P file kept on the claims is an export of their clients' diagnoses: downloading
    it again is logged per claim, and refused to whoever may not export those claims."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wizard = cls._export()
        cls.claims = cls.env["therapy.claim"].search(
            [("event_id", "in", (cls.session | cls.evening).ids)]
        )
        cls.files = cls.claims.export_attachment_id
        cls.Log = cls.env["therapy.access.log"]
        # HttpCase keeps its HTTP session in `session`
        cls.event, cls.session = cls.session, None

    def setUp(self):
        super().setUp()
        self.last_log_id = self.Log.search([], limit=1, order="id desc").id or 0

    def _new_lines(self):
        return self.Log.search([("id", ">", self.last_log_id)], order="id")

    def _download(self, user, attachment):
        """The file, as the browser downloads it for the user."""
        self.authenticate(user.login, user.login)
        return self.url_open(f"/web/content/{attachment.id}?download=true")

    def test_downloading_the_file_again_is_logged_per_claim(self):
        self.assertTrue(self.files)
        attachment = self.files[:1]
        filed = self.claims.filtered(lambda claim: claim.export_attachment_id == attachment)
        response = self._download(self.front_desk, attachment)
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"CLM*", response.content)
        lines = self._new_lines()
        self.assertEqual(
            sorted(lines.mapped("res_id")), sorted(filed.ids), "each claim of that file"
        )
        for line in lines:
            self.assertEqual(line.user_id, self.front_desk)
            self.assertEqual(line.access_type, "export")
            self.assertEqual(line.partner_id, filed.browse(line.res_id).partner_id)
            self.assertIn(attachment.name, line.detail)
        # over RPC too
        self.last_log_id = lines[-1:].id
        attachment.with_user(self.front_desk).read(["datas"])
        self.assertEqual(sorted(self._new_lines().mapped("res_id")), sorted(filed.ids))
        # the file's name and size are no export
        self.last_log_id = self._new_lines()[-1:].id
        attachment.with_user(self.front_desk).read(["name", "file_size"])
        self.assertFalse(self._new_lines())

    def test_refused_to_whoever_may_not_export_the_claims(self):
        attachment = self.files[:1]
        for user in (self.accountant, self.other_provider):
            with self.subTest(user=user.login):
                with mute_logger("odoo.http", "odoo.addons.base.models.ir_rule"):
                    response = self._download(user, attachment)
                self.assertNotEqual(response.status_code, 200)
                self.assertNotIn(b"CLM*", response.content)
                with (
                    self.assertRaises(AccessError),
                    mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                ):
                    attachment.with_user(user).read(["datas"])
        self.assertFalse(self._new_lines())
