from datetime import timedelta

from odoo import fields
from odoo.addons.mail.tests.common import MockEmail
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL, email_normalize, mute_logger

from ..models.therapy_measure_result import therapy_severity
from .common import GroupTherapyCommon
from .test_charting import GROUP_NOTE, ChartingCommon

PHQ9_QUESTION_9 = "Thoughts that you would be better off dead"


class MeasureCommon(GroupTherapyCommon):
    """The two instruments, a session in two days and a way to answer as a client does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.phq9 = cls.env.ref("group_therapy.survey_phq9")
        cls.gad7 = cls.env.ref("group_therapy.survey_gad7")
        cls.upcoming = cls._make_session(cls.group, days=2)
        cls.survey_officer = new_test_user(
            cls.env, "gt_survey_officer", groups="survey.group_survey_user", name="Survey Sue"
        )
        cls.survey_manager = new_test_user(
            cls.env, "gt_survey_manager", groups="survey.group_survey_manager", name="Survey Max"
        )

    @classmethod
    def _submit(cls, survey, client, scores, session=None, difficulty=None):
        """The client's answers, item by item (scores 0-3 in item order), submitted: what the
        survey's pages do, through the client's token (as superuser)."""
        user_input = survey.sudo()._create_answer(
            partner=client,
            check_attempts=False,
            therapy_event_id=(session or cls.upcoming).id,
        )
        items = survey.sudo().question_ids.filtered("therapy_item").sorted("therapy_item")
        assert len(items) == len(scores), "one score per item"
        for question, score in zip(items, scores, strict=True):
            answer = question.suggested_answer_ids.filtered(lambda a, s=score: a.answer_score == s)
            user_input._save_lines(question, answer.id)
        if difficulty:
            question = survey.sudo().question_ids.filtered(lambda q: not q.therapy_item)
            user_input._save_lines(
                question, question.suggested_answer_ids.filtered(lambda a: a.value == difficulty).id
            )
        user_input._mark_done()
        return user_input

    @staticmethod
    def _scores_for(total, items, last_item_zero=True):
        """Item scores adding up to ``total`` (the last item kept at 0 when it can be)."""
        scores = [0] * items
        room = items - 1 if last_item_zero and total <= 3 * (items - 1) else items
        for index in range(room):
            scores[index] = min(3, total - sum(scores))
        assert sum(scores) == total
        return scores

    @classmethod
    def _result(cls, user_input):
        return cls.env["therapy.measure.result"].search([("user_input_id", "=", user_input.id)])


class TestMeasureScoring(MeasureCommon):
    def test_instruments_as_published(self):
        for survey, items, bands in ((self.phq9, 9, 5), (self.gad7, 7, 4)):
            scored = survey.question_ids.filtered("therapy_item")
            self.assertEqual(len(scored), items)
            for question in scored:
                self.assertEqual(
                    [(a.value, a.answer_score) for a in question.suggested_answer_ids],
                    [
                        ("Not at all", 0),
                        ("Several days", 1),
                        ("More than half the days", 2),
                        ("Nearly every day", 3),
                    ],
                )
            self.assertEqual(survey.survey_type, "therapy_measure")
            self.assertEqual(survey.access_mode, "token", "invited clients only")
            self.assertEqual(
                len({therapy_severity(survey.therapy_instrument, s) for s in range(28)} - {False}),
                bands,
            )
        self.assertEqual(len(self.phq9.question_ids), 10, "9 items and the difficulty question")
        self.assertIn(
            PHQ9_QUESTION_9, self.phq9.question_ids.filtered(lambda q: q.therapy_item == 9).title
        )

    def test_severity_band_edges(self):
        cases = {
            "phq9": [
                (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"),
                (20, "severe"), (27, "severe"),
            ],
            "gad7": [
                (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                (14, "moderate"), (15, "severe"), (21, "severe"),
            ],
        }  # fmt: skip
        for instrument, rows in cases.items():
            for score, band in rows:
                with self.subTest(instrument=instrument, score=score):
                    self.assertEqual(therapy_severity(instrument, score), band)

    def test_submitted_answers_are_scored(self):
        rows = [
            (self.phq9, 0, "minimal"),
            (self.phq9, 5, "mild"),
            (self.phq9, 14, "moderate"),
            (self.phq9, 15, "moderately_severe"),
            (self.phq9, 24, "severe"),
            (self.gad7, 4, "minimal"),
            (self.gad7, 10, "moderate"),
            (self.gad7, 21, "severe"),
        ]
        for survey, total, band in rows:
            with self.subTest(survey=survey.title, total=total):
                items = len(survey.question_ids.filtered("therapy_item"))
                user_input = self._submit(survey, self.clients[0], self._scores_for(total, items))
                result = self._result(user_input)
                self.assertEqual(len(result), 1)
                self.assertEqual(
                    (result.score, result.severity, result.partner_id, result.event_id),
                    (total, band, self.clients[0], self.upcoming),
                )
                self.assertEqual(result.instrument, survey.therapy_instrument)
                self.assertEqual(result.date, fields.Date.context_today(result))

    def test_known_answer_set(self):
        # 1, 2, 0, 3, 1, 2, 0, 1, 0 = 10: moderate; the difficulty answer is not scored
        user_input = self._submit(
            self.phq9,
            self.clients[1],
            [1, 2, 0, 3, 1, 2, 0, 1, 0],
            difficulty="Extremely difficult",
        )
        result = self._result(user_input)
        self.assertEqual((result.score, result.severity, result.item9_score), (10, "moderate", 0))
        self.assertFalse(result.activity_ids)

    def test_change_since_previous(self):
        first = self._result(self._submit(self.phq9, self.clients[0], self._scores_for(17, 9)))
        first.sudo().date = "2026-11-02"
        second = self._result(self._submit(self.phq9, self.clients[0], self._scores_for(14, 9)))
        self.assertEqual(second.score_change, -3)
        self.assertEqual(second.summary, "PHQ-9: 14 (moderate), \N{MINUS SIGN}3 since 2026-11-02")
        self.assertEqual(first.summary, "PHQ-9: 17 (moderately severe)")

    def test_self_harm_answer_calls_the_providers_today(self):
        scores = [0, 0, 0, 0, 0, 0, 0, 0, 1]
        result = self._result(self._submit(self.phq9, self.clients[2], scores))
        self.assertEqual(result.item9_score, 1)
        activities = result.activity_ids
        self.assertEqual(activities.user_id, self.provider | self.shared_provider)
        for activity in activities:
            self.assertEqual(
                activity.date_deadline,
                fields.Date.context_today(activity.with_context(tz=activity.user_id.tz)),
            )
            for answer_text in ("Several days", PHQ9_QUESTION_9, "better off dead"):
                self.assertNotIn(answer_text, activity.summary)
                self.assertNotIn(answer_text, str(activity.note))
        # the provider sees it in their activities and closes it
        activity = activities.filtered(lambda a: a.user_id == self.provider)
        activity.with_user(self.provider).action_feedback(feedback="Called, safe.")
        self.assertNotIn(activity, result.activity_ids, "done")

    def test_officers_following_the_survey_are_not_told(self):
        self.phq9.sudo().message_subscribe(partner_ids=self.survey_officer.partner_id.ids)
        user_input = self._submit(self.phq9, self.clients[0], self._scores_for(3, 9))
        self.assertFalse(
            self.env["mail.message"].search(
                [("model", "=", "survey.user_input"), ("res_id", "=", user_input.id)]
            )
        )


class TestMeasureAccess(MeasureCommon):
    """Answers and results are read by front desk, administrators and the client's providers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.answers = cls._submit(cls.phq9, cls.clients[0], [1, 1, 1, 1, 1, 1, 1, 1, 0])
        cls.result = cls._result(cls.answers)
        cls.portal_user.partner_id = cls.clients[0]
        # a client of the other provider's group
        other_session = cls._make_session(cls.other_group, days=2)
        cls.other_answers = cls._submit(cls.gad7, cls.clients[4], [0] * 7, session=other_session)
        cls.other_result = cls._result(cls.other_answers)

    def _reads(self, user, records):
        """Whether ``user`` finds and reads ``records`` (all of them)."""
        try:
            with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
                found = records.with_user(user).search([("id", "in", records.ids)])
                found.read(["display_name"])
        except AccessError:
            return False
        return found == records

    def test_access_matrix(self):
        rows = [
            # (user, reads the client's answers and result, reads the other group's client's)
            (self.provider, True, False),
            (self.shared_provider, True, False),
            (self.other_provider, False, True),
            (self.front_desk, True, True),
            (self.manager, True, True),
            (self.accountant, False, False),
            (self.survey_officer, False, False),
            (self.survey_manager, False, False),
            (self.portal_user, False, False),
        ]
        for user, own, other in rows:
            for label, records, expected in (
                ("result", self.result, own),
                ("answers", self.answers, own),
                ("answer lines", self.answers.user_input_line_ids, own),
                ("other result", self.other_result, other),
                ("other answers", self.other_answers, other),
                ("other answer lines", self.other_answers.user_input_line_ids, other),
            ):
                with self.subTest(user=user.login, records=label):
                    self.assertEqual(self._reads(user, records), expected)

    def test_reading_the_answers_is_on_the_access_log(self):
        Log = self.env["therapy.access.log"].sudo()
        logged = Log.search([("res_model", "=", "survey.user_input")])
        # the list of results reads scores, not answers
        self.result.with_user(self.provider).web_read({"score": {}, "severity": {}})
        self.assertEqual(Log.search([("res_model", "=", "survey.user_input")]), logged)
        # the result's form shows the answers
        self.result.with_user(self.provider).web_read(
            {
                "score": {},
                "answer_line_ids": {
                    "fields": {
                        "question_id": {"fields": {"display_name": {}}},
                        "suggested_answer_id": {"fields": {"display_name": {}}},
                    }
                },
            }
        )
        line = Log.search([("res_model", "=", "survey.user_input")]) - logged
        self.assertEqual(len(line), 1)
        self.assertEqual(
            (line.user_id, line.partner_id, line.res_id, line.access_type),
            (self.provider, self.clients[0], self.answers.id, "read"),
        )

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    def test_nobody_edits_a_result(self):
        for user in (self.provider, self.front_desk, self.manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.result.with_user(user).write({"score": 0})

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    def test_survey_officer_cannot_reach_the_answers(self):
        # not by the survey's statistics (its results page reads the lines as the user)
        lines = (
            self.env["survey.user_input.line"]
            .with_user(self.survey_officer)
            .search([("survey_id", "=", self.phq9.id)])
        )
        self.assertFalse(lines)
        # not by turning the measure into an ordinary survey, nor by changing its scores
        for user in (self.survey_officer, self.survey_manager):
            with self.subTest(user=user.login):
                with self.assertRaises(UserError):  # AccessError is one too
                    self.phq9.with_user(user).write({"survey_type": "survey"})
                with self.assertRaises(AccessError):
                    self.phq9.question_ids[:1].suggested_answer_ids[:1].with_user(user).write(
                        {"answer_score": 3}
                    )
        self.assertEqual(self.phq9.survey_type, "therapy_measure")

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    def test_portal_client_reads_no_answers_over_the_orm(self):
        # the client answers through the private link only (see TestMeasureSending)
        with self.assertRaises(AccessError):
            self.env["survey.user_input"].with_user(self.portal_user).search([])
        with self.assertRaises(AccessError):
            self.env["therapy.measure.result"].with_user(self.portal_user).search([])


class TestMeasureSending(MeasureCommon, MockEmail):
    """Each client gets their own private links by an e-mail of their own, and nothing else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "office@practice.example.com"
        cls.group.measure_survey_ids = cls.phq9 | cls.gad7
        cls.other_group.measure_survey_ids = cls.phq9

    def _session_in(self, group, hours):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(hours=hours)
        return self.env["calendar.event"].create(
            {
                "therapy_group_id": group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": group.provider_id.id,
            }
        )

    def _send_queue(self):
        self.env.flush_all()
        self.env["mail.mail"].sudo().search([("state", "=", "outgoing")]).send()

    def _answers(self, sessions):
        return (
            self.env["survey.user_input"].sudo().search([("therapy_event_id", "in", sessions.ids)])
        )

    def test_each_client_gets_only_their_own_links(self):
        members = self.clients[:4]
        # the session's invitations are another test's subject (test_privacy_mail)
        self.env["mail.mail"].sudo().search([]).unlink()
        with self.mock_mail_gateway():
            self.upcoming.with_user(self.front_desk).action_send_therapy_measures()
            self._send_queue()
            mails = list(self._mails)
        answers = self._answers(self.upcoming)
        self.assertEqual(len(answers), 8, "one answer per client and questionnaire")
        self.assertEqual(answers.partner_id, members)
        to_clients = [
            mail
            for mail in mails
            if {email_normalize(a) for a in mail["email_to"]} & set(members.mapped("email"))
        ]
        self.assertEqual(len(to_clients), 4, "one e-mail per client")
        for mail in to_clients:
            recipients = {email_normalize(a) for a in mail["email_to"] + (mail["email_cc"] or [])}
            client = members.filtered(lambda c, r=recipients: c.email in r)
            with self.subTest(client=client.name):
                self.assertEqual(recipients, {client.email}, "addressed to that client alone")
                text = f"{mail['subject']} {mail['body']}"
                own = answers.filtered(lambda a, c=client: a.partner_id == c)
                for answer in answers:
                    if answer in own:
                        self.assertIn(answer.access_token, text)
                    else:
                        self.assertNotIn(answer.access_token, text, "no other member's link")
                for other in members - client:
                    self.assertNotIn(other.name, text)
                    self.assertNotIn(other.email, text)
                self.assertIn(client.name, text)
                self.assertNotIn(self.group.name, text, "the group's name can say what it treats")
        # clients follow neither the session nor their answers; the chatter names nobody
        self.assertFalse(self.upcoming.message_partner_ids & members)
        self.assertFalse(answers.message_partner_ids & members)
        note = self.upcoming.message_ids[:1]
        self.assertIn("4 clients", note.body)
        for client in members:
            self.assertNotIn(client.name, note.body)
        # sending again sends nothing twice
        with self.mock_mail_gateway():
            self.upcoming.with_user(self.provider).action_send_therapy_measures()
            self._send_queue()
            self.assertFalse(
                [m for m in self._mails if set(m["email_to"]) & set(members.mapped("email"))]
            )
        self.assertEqual(self._answers(self.upcoming), answers)

    def test_answering_the_link_scores_it(self):
        self.upcoming.with_user(self.provider).action_send_therapy_measures()
        answer = self._answers(self.upcoming).filtered(
            lambda a: a.partner_id == self.clients[0] and a.survey_id == self.gad7
        )
        items = self.gad7.question_ids.sorted("therapy_item")
        for question in items:
            answer._save_lines(question, question.suggested_answer_ids[2].id)  # 2 each
        answer._mark_done()
        result = self._result(answer)
        self.assertEqual((result.score, result.severity), (14, "moderate"))
        self.assertEqual(result.event_id, self.upcoming)
        self.assertEqual(result.group_id, self.group)

    @mute_logger("odoo.models", "odoo.addons.base.models.ir_rule")
    def test_who_sends(self):
        for user in (self.other_provider, self.accountant, self.survey_officer):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.upcoming.with_user(user).action_send_therapy_measures()
        self.assertFalse(self._answers(self.upcoming))
        self.group.measure_survey_ids = False
        with self.assertRefused(UserError, "Choose the questionnaires of"):
            self.upcoming.with_user(self.front_desk).action_send_therapy_measures()

    def test_cron_sends_the_configured_hours_before(self):
        self.group.write({"measure_frequency": "session", "measure_hours_before": 3})
        soon = self._session_in(self.group, 2)
        later = self._session_in(self.group, 5)
        self.env["calendar.event"]._cron_send_therapy_measures()
        self.assertEqual(len(self._answers(soon)), 8)
        self.assertFalse(self._answers(later | self.upcoming))
        self.env["calendar.event"]._cron_send_therapy_measures()
        self.assertEqual(len(self._answers(soon)), 8, "sent once")

    def test_cron_every_four_weeks(self):
        self.other_group.write({"measure_frequency": "four_weeks", "measure_hours_before": 3})
        client = self.clients[4]
        first = self._session_in(self.other_group, 2)
        self.env["calendar.event"]._cron_send_therapy_measures()
        self.assertEqual(self._answers(first).partner_id, client)
        # the next session: the client had it less than 4 weeks ago
        second = self._session_in(self.other_group, 2.5)
        self.env["calendar.event"]._cron_send_therapy_measures()
        self.assertFalse(self._answers(second))
        # five weeks after the last one: sent again
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE survey_user_input SET create_date = create_date - interval '5 weeks' "
                "WHERE id IN %s",
                tuple(self._answers(first).ids),
            )
        )
        self.env.invalidate_all()
        self.env["calendar.event"]._cron_send_therapy_measures()
        self.assertEqual(self._answers(second).partner_id, client)


class TestMeasureDisplay(ChartingCommon, MeasureCommon):
    """The latest scores on the roster, the charting screen and the client's own note only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        day = cls.session.therapy_session_date
        rows = [
            # (client, survey, total, days before the session)
            (cls.clients[0], cls.phq9, 17, 35),
            (cls.clients[0], cls.phq9, 14, 1),
            (cls.clients[0], cls.gad7, 8, 1),
            (cls.clients[3], cls.phq9, 5, 2),
            (cls.clients[0], cls.phq9, 20, -1),  # after the session: not its score
        ]
        for client, survey, total, days in rows:
            items = len(survey.question_ids.filtered("therapy_item"))
            result = cls._result(
                cls._submit(survey, client, cls._scores_for(total, items), session=cls.session)
            )
            result.sudo().date = day - timedelta(days=days)
        cls.first_day = fields.Date.to_string(day - timedelta(days=35))
        cls.summary = (
            f"PHQ-9: 14 (moderate), \N{MINUS SIGN}3 since {cls.first_day} \N{MIDDLE DOT} "
            "GAD-7: 8 (mild)"
        )

    def _line(self, client, user):
        return self.session.therapy_attendance_ids.with_user(user).filtered(
            lambda line: line.partner_id == client
        )

    def test_roster_shows_latest_scores_and_change(self):
        for user in (self.provider, self.front_desk):
            with self.subTest(user=user.login):
                self.assertEqual(
                    self._line(self.clients[0], user).therapy_measure_summary, self.summary
                )
                self.assertFalse(self._line(self.clients[1], user).therapy_measure_summary)
                self.assertEqual(
                    self._line(self.clients[3], user).therapy_measure_summary, "PHQ-9: 5 (mild)"
                )
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self._line(self.clients[0], self.accountant).therapy_measure_summary  # noqa: B018

    def test_charting_screen_and_own_note_only(self):
        wizard = self._open_wizard()
        by_client = {line.partner_id: line.therapy_measure_summary for line in wizard.line_ids}
        self.assertEqual(by_client[self.clients[0]], self.summary)
        self.assertFalse(by_client[self.clients[1]])
        wizard.group_note = GROUP_NOTE
        wizard.action_review()
        own = self._note(self.clients[0])
        self.assertIn(self.summary, own.body)
        self.assertNotIn("PHQ-9", own.group_note)
        self.assertNotIn("PHQ-9", self._note(self.clients[1]).body)
        other = self._note(self.clients[3]).body
        self.assertIn("PHQ-9: 5 (mild)", other)
        self.assertNotIn("14 (moderate)", other, "no other client's score")
        self.assertNotIn("GAD-7", other)

    def test_trend_graph_on_the_client_profile(self):
        action = self.clients[0].with_user(self.provider).action_open_therapy_measures()
        self.assertEqual(action["views"][0][1], "graph")
        results = (
            self.env["therapy.measure.result"].with_user(self.provider).search(action["domain"])
        )
        self.assertEqual(results.partner_id, self.clients[0])
        self.assertEqual(len(results), 4)
        with (
            self.assertRaises(AccessError),
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
        ):
            self.env["therapy.measure.result"].with_user(self.other_provider).browse(
                results.ids
            ).read(["score"])


@tagged("post_install", "-at_install")
class TestMeasureLinks(MeasureCommon, HttpCase):
    """A client signed in to the portal opens their own link, never another member's."""

    def test_portal_client_answers_only_their_own(self):
        new_test_user(
            self.env, "gt_client01", groups="base.group_portal", partner_id=self.clients[0].id
        )
        self.group.measure_survey_ids = self.phq9
        self.upcoming.with_user(self.front_desk).action_send_therapy_measures()
        answers = (
            self.env["survey.user_input"]
            .sudo()
            .search([("therapy_event_id", "=", self.upcoming.id)])
        )
        own = answers.filtered(lambda a: a.partner_id == self.clients[0])
        other = answers.filtered(lambda a: a.partner_id == self.clients[1])
        self.authenticate("gt_client01", "gt_client01")
        page = self.url_open(own.get_start_url()).text
        self.assertIn("Over the last 2 weeks", page)
        self.assertNotIn("Survey Access Error", page)
        page = self.url_open(other.get_start_url()).text
        self.assertIn("Survey Access Error", page)
        self.assertNotIn("Over the last 2 weeks", page)
        # without a token (and no cookie of an answer begun), nobody starts a clinical measure
        self.authenticate(None, None)
        self.opener.cookies.clear()
        page = self.url_open(self.phq9.get_start_url()).text
        self.assertNotIn("Over the last 2 weeks", page)
