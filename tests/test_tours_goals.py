from datetime import datetime, timedelta

from odoo.tests import HttpCase, tagged
from odoo.tools import html2plaintext

from .common import GroupTherapyCommon, save_tour_screenshots


@tagged("post_install", "-at_install")
class TestGoalsTour(HttpCase, GroupTherapyCommon):
    """The provider charts with each client's treatment-plan goals beside their note, in a real
    browser: progress recorded, kept over closing the page, reviewed and signed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        Goal = cls.env["therapy.treatment.goal"]
        cls.coping = Goal.create(
            {
                "partner_id": cls.clients[0].id,
                "problem": "Anxiety",
                "name": "Uses two coping skills when anxious, 4 of 7 days",
                "date_target": datetime.now().date() + timedelta(days=60),
            }
        )
        Goal.create(
            {
                "partner_id": cls.clients[0].id,
                "problem": "Anxiety",
                "name": "Names three triggers",
                "state": "met",
            }
        )
        cls.craving = Goal.create(
            {"partner_id": cls.clients[1].id, "problem": "Alcohol use", "name": "Logs cravings"}
        )

    def setUp(self):
        super().setUp()
        save_tour_screenshots(self)

    def test_provider_charts_progress_on_each_clients_goals(self):
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[2]
        ).write({"state": "absent", "product_id": self.no_show.id})
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_goals_tour",
            login=self.provider.login,
        )
        notes = {note.partner_id: note for note in session.therapy_chart_note_ids}
        self.assertEqual({note.state for note in notes.values()}, {"locked"}, "reviewed and signed")
        own = html2plaintext(notes[self.clients[0]].body)
        self.assertIn(self.coping.name, own)
        self.assertIn("Used box breathing twice", own)
        self.assertNotIn("Logs cravings", own)
        self.assertNotIn("Names three triggers", own, "a met goal is not offered")
        other = html2plaintext(notes[self.clients[1]].body)
        self.assertIn("Logs cravings", other)
        self.assertNotIn("coping skills", other)
        self.assertNotIn("Treatment plan progress", notes[self.clients[3]].body)
        self.assertEqual(notes[self.clients[0]].goal_progress_ids.mapped("rating"), ["progressing"])
