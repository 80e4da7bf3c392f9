from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .common import GroupTherapyCommon, save_tour_screenshots


@tagged("post_install", "-at_install")
class TestCosignTours(HttpCase, GroupTherapyCommon):
    """A pre-licensed provider signs in the charting screen; their supervisor co-signs from
    the To Co-sign list."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.supervisor = new_test_user(
            cls.env,
            "gt_supervisor",
            groups="group_therapy.group_therapy_provider",
            name="Supervisor Sue",
        )
        cls.supervisor.therapy_credentials = "LCSW"
        cls.provider.therapy_supervisor_id = cls.supervisor

    def setUp(self):
        super().setUp()
        save_tour_screenshots(self)

    def test_intern_signs_and_the_supervisor_cosigns(self):
        session = self._make_session(self.group)
        session.action_mark_all_attended()
        session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[1]
        ).write({"state": "absent", "product_id": self.no_show.id})
        self.start_tour(
            f"/odoo/calendar.event/{session.id}",
            "group_therapy_cosign_intern_tour",
            login=self.provider.login,
        )
        notes = session.therapy_chart_note_ids
        self.assertEqual(len(notes), 3)
        self.assertEqual(set(notes.mapped("state")), {"to_cosign"})
        self.assertEqual(set(notes.mapped("signed_by_id")), {self.provider})
        self.start_tour(
            "/odoo/action-group_therapy.therapy_chart_note_action_cosign",
            "group_therapy_cosign_supervisor_tour",
            login=self.supervisor.login,
        )
        self.env.invalidate_all()
        self.assertEqual(set(notes.mapped("state")), {"locked"})
        self.assertEqual(set(notes.mapped("cosigned_by_id")), {self.supervisor})
        self.assertTrue(all(notes.mapped("content_hash")))
