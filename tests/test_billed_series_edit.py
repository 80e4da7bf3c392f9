from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .test_insurance_claims import ClaimsCommon


@tagged("post_install", "-at_install")
class TestBilledSeriesEdit(ClaimsCommon):
    """Editing a recurring series makes Odoo archive or delete its occurrences to rebuild them
    (recurrence_update "all_events" / "future_events", a new rule, the recurrence ended): a
    billed occurrence refuses it, saying what to do, and the series stays as it was. A weekly
    series of four, the third (a day ago) billed: Bob on a claim, Cara on a posted invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.series = cls._weekly_series(days=-15, count=4)
        cls.billed = cls.series[2]
        cls.billed.action_mark_all_attended()
        cls._invoice(cls.billed)
        cls.claim = cls._claim(cls.billed, cls.bob)
        cls.invoice = cls.billed.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == cls.cara
        ).invoice_id

    @classmethod
    def _weekly_series(cls, days, count):
        """A weekly group session `days` from today at 18:00 UTC (the same day in California),
        `count` times, booked by the front desk; its occurrences in order."""
        start = datetime.now().replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(
            days=days
        )
        cls.env["calendar.event"].with_user(cls.front_desk).create(
            {
                "therapy_group_id": cls.group.id,
                "start": start,
                "stop": start + timedelta(hours=1),
                "user_id": cls.provider.id,
                "recurrency": True,
                "rrule_type": "weekly",
                start.strftime("%a").lower(): True,
                "interval": 1,
                "count": count,
                "end_type": "count",
            }
        )
        return cls._occurrences(start)

    @classmethod
    def _occurrences(cls, start):
        return cls.env["calendar.event"].search(
            [
                ("therapy_group_id", "=", cls.group.id),
                ("recurrence_id", "!=", False),
                ("start", ">=", start - timedelta(hours=1)),
            ],
            order="start",
        )

    def _snapshot(self):
        """What the series is: every occurrence (archived too), its state and lines."""
        events = (
            self.env["calendar.event"]
            .with_context(active_test=False)
            .search([("therapy_group_id", "=", self.group.id)], order="start")
        )
        return [
            (
                event.id,
                event.active,
                event.start,
                event.recurrence_id.id,
                event.recurrence_id.rrule,
                sorted(event.therapy_attendance_ids.mapped(lambda line: (line.id, line.state))),
            )
            for event in events
        ]

    def test_series_edits_refused_while_an_occurrence_is_billed(self):
        before = self._snapshot()
        first, second = self.series[0], self.series[1]
        an_hour_later = {
            "start": first.start + timedelta(hours=1),
            "stop": first.stop + timedelta(hours=1),
        }
        edits = [
            # every occurrence an hour later, from the first one
            ("all events, new time", first, {**an_hour_later, "recurrence_update": "all_events"}),
            # a new rule from an unbilled occurrence: the series is rebuilt whole
            ("all events, new rule", second, {"interval": 2, "recurrence_update": "all_events"}),
            # this and the following: the billed one follows the second
            ("future events, new rule", second, {"count": 6, "recurrence_update": "future_events"}),
            ("future events, renamed", second, {"name": "x", "recurrence_update": "future_events"}),
            # the first occurrence is the base: its "future" is the whole series
            ("future from the first", first, {"interval": 2, "recurrence_update": "future_events"}),
            # the recurrence ended: Odoo deletes the occurrences that follow
            ("ended, future", second, {"recurrency": False, "recurrence_update": "future_events"}),
            ("ended, all", second, {"recurrency": False, "recurrence_update": "all_events"}),
        ]
        for name, event, vals in edits:
            with self.subTest(edit=name):
                with self.assertRefused(UserError, "to edit the recurring series") as catcher:
                    event.with_user(self.front_desk).write(dict(vals))
                message = str(catcher.exception)
                self.assertIn(self.billed.display_name, message)
                self.assertRegex(message, "void the claim first|credit the invoice first")
                self.assertIn('"This event"', message)
                self.assertEqual(self._snapshot(), before, "nothing changed")
        # Odoo's Delete and Archive of a series' occurrences ("All events", "This and
        # following events")
        second = second.with_user(self.front_desk)
        for method, setting in (
            ("action_mass_deletion", "all_events"),
            ("action_mass_deletion", "future_events"),
            ("action_mass_archive", "all_events"),
            ("action_mass_archive", "future_events"),
        ):
            with self.subTest(method=method, setting=setting):
                with self.assertRefused(UserError, "void the claim first"):
                    getattr(second, method)(setting)
                self.assertEqual(self._snapshot(), before, "nothing changed")
        self.assertEqual(self.claim.state, "to_submit")
        self.assertEqual(self.invoice.state, "posted")

    def test_unbilled_series_edits_normally(self):
        """A series nobody is billed for is rebuilt as Odoo does it, and so is this one once
        its claim is voided and its invoice credited."""
        future = self._weekly_series(days=20, count=3)
        future[0].with_user(self.front_desk).write({"count": 5, "recurrence_update": "all_events"})
        rebuilt = self._occurrences(future[0].start)
        self.assertEqual(len(rebuilt), 5)
        self.assertEqual(len(rebuilt.recurrence_id), 1)
        for occurrence in rebuilt:
            self.assertEqual(len(occurrence.therapy_attendance_ids), 4, "each with its lines")
        rebuilt[2].with_user(self.front_desk).write(
            {"interval": 2, "recurrence_update": "future_events"}
        )
        self.assertEqual(
            [event.start - rebuilt[2].start for event in self._occurrences(rebuilt[2].start)],
            [timedelta(days=0), timedelta(days=14), timedelta(days=28)],
        )
        # the billed series, once nothing of it is billed any more
        claims = self.env["therapy.claim"].search([("event_id", "=", self.billed.id)])
        claims.with_user(self.accountant).action_void()
        self.assertEqual(set(claims.mapped("state")), {"cancelled"})
        self._credit_invoice(self.invoice, self.accountant)
        self.series[1].with_user(self.front_desk).write(
            {"name": "Renamed", "recurrence_update": "future_events"}
        )
        self.assertFalse(self.billed.active, "Odoo archived it to rebuild the series")
        self.assertEqual(
            self.billed.therapy_attendance_ids.mapped("state"),
            ["attended"] * 4,
            "an archived session keeps the attendance recorded",
        )
