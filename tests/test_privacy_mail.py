from datetime import timedelta
from unittest.mock import patch

import vobject

from odoo import fields
from odoo.addons.mail.tests.common import MockEmail
from odoo.tests import tagged
from odoo.tools import email_normalize

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestPrivateMail(GroupTherapyCommon, MockEmail):
    """Every e-mail about a group session reaches one client and names that client alone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider.email = "provider.pat@example.com"
        cls.front_desk.email = "fran.desk@example.com"
        cls.late_client = cls.clients[5]
        cls.all_clients = cls.clients[:4] | cls.late_client
        cls.alarm = cls.env["calendar.alarm"].create(
            {
                "name": "20 minutes before",
                "alarm_type": "email",
                "interval": "minutes",
                "duration": 20,
            }
        )

    def _flush_mail_queue(self):
        """Send what Odoo queued (invitations are sent after commit, which tests never do)."""
        self.env.flush_all()
        self.env["mail.mail"].sudo().search([("state", "=", "outgoing")]).send()

    def _clients_in(self, text):
        """The clients whose name or e-mail address appears in `text`."""
        text = text.lower()
        return self.all_clients.filtered(
            lambda client: client.name.lower() in text or client.email.lower() in text
        )

    def _mail_texts(self, mail):
        """Subject, body and every attachment of a sent e-mail, as text; .ics attendees apart."""
        texts = [mail["subject"] or "", mail["body"] or ""]
        ics_attendees = []
        for name, content, _mimetype in mail.get("attachments") or []:
            if isinstance(content, str):
                content = content.encode()
            text = content.decode(errors="replace")
            texts.append(text)
            if name.endswith(".ics"):
                event = vobject.readOne(text).vevent
                ics_attendees.append(
                    [line.value.lower() for line in event.contents.get("attendee", [])]
                )
        return texts, ics_attendees

    def test_every_mail_to_a_client_names_that_client_alone(self):
        start = fields.Datetime.now().replace(microsecond=0) + timedelta(days=3)
        with self.mock_mail_gateway():
            # schedule: front desk books the group on the provider's calendar
            session = (
                self.env["calendar.event"]
                .with_user(self.front_desk)
                .create(
                    {
                        "therapy_group_id": self.group.id,
                        "start": start,
                        "stop": start + timedelta(hours=1),
                    }
                )
            )
            self._flush_mail_queue()
            # move it an hour later
            session.with_user(self.front_desk).write(
                {"start": start + timedelta(hours=1), "stop": start + timedelta(hours=2)}
            )
            self._flush_mail_queue()
            # an e-mail reminder, as Odoo's alarm cron sends it
            session.with_user(self.front_desk).alarm_ids = [(4, self.alarm.id)]
            self.env.flush_all()
            due = session.start - timedelta(minutes=15)
            with patch.object(fields.Datetime, "now", lambda: due):
                self.env["calendar.alarm_manager"].with_context(
                    lastcall=due - timedelta(minutes=10)
                )._send_reminder()
            self._flush_mail_queue()
            # a client joins the group: invited to the upcoming session
            self.env["therapy.group.member"].with_user(self.front_desk).create(
                {"group_id": self.group.id, "partner_id": self.late_client.id}
            )
            self._flush_mail_queue()
            self.assertIn(self.late_client, session.partner_ids)
            # staff write "to the group"
            staff_message = session.with_user(self.front_desk).message_post(
                body="Please bring your workbook.",
                subject="Workbook",
                partner_ids=session.partner_ids.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
            self._flush_mail_queue()
            # cancel
            session.with_user(self.front_desk).action_cancel_session()
            self._flush_mail_queue()
            mails = list(self._mails)

        client_emails = {client.email: client for client in self.all_clients}
        received = {client: [] for client in self.all_clients}
        for mail in mails:
            recipients = {email_normalize(address) for address in mail["email_to"]}
            recipients |= {email_normalize(a) for a in mail.get("email_cc") or []}
            addressed = self.all_clients.filtered(lambda client, r=recipients: client.email in r)
            if not addressed:
                continue
            client = addressed[:1]
            with self.subTest(client=client.name, subject=mail["subject"]):
                self.assertEqual(len(addressed), 1, "one client per e-mail")
                self.assertEqual(recipients, {client.email}, "addressed to that client alone")
                texts, ics_attendees = self._mail_texts(mail)
                for text in texts:
                    self.assertFalse(self._clients_in(text) - client, "no other member named")
                for attendees in ics_attendees:
                    self.assertEqual(attendees, [f"mailto:{client.email}"])
            received[client].append(mail["subject"])
        self.assertEqual(set(client_emails.values()), set(received))
        for client in self.clients[:4]:
            subjects = " | ".join(received[client])
            for kind in ("Invitation", "Updated", "Reminder", "Workbook", "Cancelled"):
                with self.subTest(client=client.name, kind=kind):
                    self.assertIn(kind, subjects)
        late = " | ".join(received[self.late_client])
        for kind in ("Invitation", "Workbook", "Cancelled"):
            self.assertIn(kind, late)
        # the chatter stays internal
        self.assertFalse(session.message_partner_ids & self.all_clients, "clients never follow")
        self.assertFalse(staff_message.partner_ids & self.all_clients)

    def test_clients_never_follow_a_session(self):
        session = self._make_session(self.group, days=2)
        session.message_subscribe(partner_ids=(self.clients[0] | self.provider.partner_id).ids)
        self.assertIn(self.provider.partner_id, session.message_partner_ids)
        self.assertNotIn(self.clients[0], session.message_partner_ids)

    def test_client_ics_names_that_client_alone(self):
        session = self._make_session(self.group, days=2)
        attendee = session.attendee_ids.filtered(lambda a: a.partner_id == self.clients[1])
        ics = session.with_context(therapy_ics_attendee_id=attendee.id)._get_ics_file()[session.id]
        event = vobject.readOne(ics.decode()).vevent
        self.assertEqual(
            [line.value.lower() for line in event.contents["attendee"]],
            [f"mailto:{self.clients[1].email}"],
        )
        self.assertFalse(self._clients_in(ics.decode()) - self.clients[1])

    def test_sms_reminder_one_client_per_message(self):
        """calendar_sms (when installed) texts each client of a group session on their own."""
        if "sms_template_id" not in self.env["calendar.alarm"]._fields:
            self.skipTest("calendar_sms is not installed")
        for index, client in enumerate(self.clients[:4]):
            client.phone = f"+1 202 555 01{index:02d}"
        session = self._make_session(self.group, days=2)
        alarm = self.env["calendar.alarm"].create(
            {"name": "SMS 1 hour before", "alarm_type": "sms", "interval": "hours", "duration": 1}
        )
        SmsModel = type(self.env["sms.sms"])
        with patch.object(SmsModel, "send", autospec=True) as send:
            session._do_sms_reminder(alarm)
        messages = self.env["mail.message"].search(
            [
                ("model", "=", "calendar.event"),
                ("res_id", "=", session.id),
                ("message_type", "=", "sms"),
            ]
        )
        self.assertEqual(len(messages), 4, "one text message per client")
        for message in messages:
            with self.subTest(message=message.id):
                self.assertEqual(len(message.partner_ids), 1)
                self.assertEqual(message.notification_ids.res_partner_id, message.partner_ids)
                self.assertFalse(self._clients_in(message.body))
        self.assertEqual(messages.partner_ids, self.clients[:4])
        sms = self.env["sms.sms"].search([("mail_message_id", "in", messages.ids)])
        self.assertEqual(len(set(sms.mapped("number"))), 4, "one number per text message")
        self.assertEqual(send.call_count, 4)
