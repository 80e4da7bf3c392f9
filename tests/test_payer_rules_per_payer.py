import importlib.util
import json
import pathlib
from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import GroupTherapyCommon

DEFAULTS_MIGRATION = (
    pathlib.Path(__file__).parent.parent / "migrations/19.0.1.1.0/post-payer-rule-defaults.py"
)


@tagged("post_install", "-at_install")
class TestPayerRulesPerPayer(GroupTherapyCommon):
    """Head count of participants, same-day conflicts, telehealth modifiers per payer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.group.member_ids.date_start = datetime.now().date() - timedelta(days=30)
        cls.session = cls._make_session(cls.group)
        cls.session.action_mark_all_attended()
        cls.medicare = cls.env["res.partner"].create(
            {"name": "Medicare Part B", "is_company": True, "therapy_payer_type": "medicare"}
        )
        cls.acme = cls.env["res.partner"].create(
            {"name": "Acme Health", "is_company": True, "therapy_payer_type": "commercial"}
        )
        cls.cpt_90834 = cls.env["product.product"].create(
            {
                "name": "Psychotherapy, 45 minutes",
                "therapy_code": "90834",
                "therapy_code_kind": "cpt",
                "lst_price": 120.0,
            }
        )

    def _line(self, client, session=None):
        return (session or self.session).therapy_attendance_ids.filtered(
            lambda line: line.partner_id == client
        )

    def _flags(self, client, session=None):
        self.env.invalidate_all()  # findings are computed when read, as the web client does
        return self._line(client, session).with_user(self.front_desk).rule_flags or ""

    def test_head_count_counts_everyone_present_no_fee_included(self):
        self.env.ref("group_therapy.therapy_payer_rule_90853_head_count").max_count = 3
        self._line(self.clients[3]).write({"product_id": self.no_fee.id})
        with self.assertRefused(
            UserError, "4 participants present in a session billing 90853, more than 3"
        ) as catcher:
            self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertIn("split the group", str(catcher.exception))
        self.assertFalse(self.session.therapy_attendance_ids.invoice_id)
        # The client without a fee is counted, not flagged: nothing of theirs is billed.
        self.assertIn("participants present", self._flags(self.clients[0]))
        self.assertNotIn("participants present", self._flags(self.clients[3]))

    def test_once_per_day_warns_by_default(self):
        later = self.session.copy(
            {
                "start": self.session.start + timedelta(hours=3),
                "stop": self.session.stop + timedelta(hours=3),
            }
        )
        later.action_mark_all_attended()
        self.assertIn("⚠ 90853 billed more than once on the same day", self._flags(self.clients[0]))
        later.with_user(self.front_desk).action_invoice_attendance()
        self.assertTrue(
            later.therapy_attendance_ids.invoice_id, "a warning does not stop invoicing"
        )
        self.assertIn("billed more than once on the same day", later.message_ids[:1].body)

    def test_once_per_day_warns_after_an_upgrade_unless_the_practice_changed_it(self):
        spec = importlib.util.spec_from_file_location("gt_payer_rule_defaults", DEFAULTS_MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        rule = self.env.ref("group_therapy.therapy_payer_rule_90853_once_per_day")

        def installed_blocking(changed_later):
            """The rule as a database installed at 19.0.1.0.0 has it."""
            self.env.cr.execute(
                "UPDATE therapy_payer_rule SET severity = 'block', write_date = create_date "
                "+ %s WHERE id = %s",
                [timedelta(days=3 if changed_later else 0), rule.id],
            )
            self.env.invalidate_all()

        installed_blocking(changed_later=False)
        migration.migrate(self.env.cr, None)  # a new install: nothing to upgrade
        self.env.invalidate_all()
        self.assertEqual(rule.severity, "block")
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(rule.severity, "warning", "as shipped now")
        installed_blocking(changed_later=True)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(rule.severity, "block", "the practice's choice is kept")
        # The telehealth rule of 19.0.1.0.0 becomes the commercial default, audio-only included.
        telehealth = self.env.ref("group_therapy.therapy_payer_rule_telehealth_95")
        self.env.cr.execute(
            "UPDATE therapy_payer_rule SET name = %s::jsonb, audio_only_modifiers = NULL, "
            "write_date = create_date WHERE id = %s",
            [json.dumps({"en_US": "Telehealth lines carry modifier 95"}), telehealth.id],
        )
        self.env.invalidate_all()
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(telehealth.audio_only_modifiers, "93")
        self.assertEqual(
            telehealth.name, "Telehealth, commercial default: modifier 95 (audio-only: 93)"
        )

    def test_group_and_individual_psychotherapy_the_same_day(self):
        client = self.clients[0]
        # Individual psychotherapy billed by the practice's own invoice, the same day.
        individual_invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": client.id,
                "invoice_date": self.session.therapy_session_date,
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.cpt_90834.id, "price_unit": 120.0})
                ],
            }
        )
        flags = self._flags(client)
        self.assertIn(
            f"90853 the same day as individual psychotherapy 90834 ({individual_invoice.name})",
            flags,
        )
        self.assertIn("add modifier 59 or XE to 90834 there", flags)
        self.assertNotIn("90834", self._flags(self.clients[1]), "another client's day is clean")
        individual_invoice.invoice_line_ids.therapy_modifiers = "XE"
        self.assertNotIn("90834", self._flags(client))
        # Individual psychotherapy recorded as another session's attendance.
        individual = self.env["therapy.group"].create(
            {
                "name": "Individual sessions",
                "code": "IND",
                "provider_id": self.provider.id,
                "default_product_id": self.cpt_90834.id,
            }
        )
        self.env["therapy.group.member"].create(
            {
                "group_id": individual.id,
                "partner_id": client.id,
                "date_start": datetime.now().date() - timedelta(days=30),
            }
        )
        other_session = self._make_session(individual, hours=0.75)
        other_session.action_mark_all_attended()
        self.assertIn(
            f"individual psychotherapy 90834 ({other_session.display_name})", self._flags(client)
        )
        self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertTrue(
            self._line(client).invoice_id, "a warning by default: the group session is invoiced"
        )
        self._line(client, other_session).modifiers = "59"
        self.assertNotIn("90834", self._flags(client))

    def test_telehealth_modifiers_per_payer(self):
        medicare_client, acme_client, self_pay = self.clients[:3]
        medicare_client.therapy_payer_id = self.medicare
        acme_client.therapy_payer_id = self.acme
        for client in (medicare_client, acme_client, self_pay):
            self._line(client).place_of_service = "10"
        # Commercial default: audio-video wants 95.
        self.assertIn("without modifier 95: add it", self._flags(acme_client))
        self.assertIn("without modifier 95", self._flags(self_pay))
        # Medicare: place of service 10 says telehealth; no 95 wanted.
        self.assertEqual(self._flags(medicare_client), "")
        self._line(medicare_client).modifiers = "95"
        self.assertIn("modifier 95, which this payer does not want", self._flags(medicare_client))
        self.assertIn("remove it", self._flags(medicare_client))
        self._line(acme_client).modifiers = "HQ, 95"
        self.assertEqual(self._flags(acme_client), "")
        # Audio-only: 93 for the commercial default, 93 or FQ for Medicare.
        self._line(acme_client).audio_only = True
        self.assertIn("audio-only telehealth without modifier 93", self._flags(acme_client))
        self._line(acme_client).modifiers = "93"
        self.assertEqual(self._flags(acme_client), "")
        self._line(medicare_client).write({"audio_only": True, "modifiers": "FQ"})
        self.assertEqual(self._flags(medicare_client), "")
        # The rules are data: a practice switches the Medicare variant off.
        self.env.ref("group_therapy.therapy_payer_rule_telehealth_medicare").active = False
        self._line(medicare_client).write({"audio_only": False, "modifiers": False})
        self.assertIn("without modifier 95", self._flags(medicare_client))
        # Warnings are logged when invoicing, never blocking.
        self.session.with_user(self.front_desk).action_invoice_attendance()
        self.assertEqual(len(self.session.therapy_attendance_ids.invoice_id), 4)
        self.assertIn("without modifier 95", self.session.message_ids[:1].body)
