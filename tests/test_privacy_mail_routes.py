"""Messages on Group Therapy records are written by those who may post there.

A message on a group, a session, a chart note, a claim or a consent lands in its chatter (the
group's names its clients) and names the record (``mail.message.record_name``, read as
superuser). Odoo checks the right to post on ``message_post``, but not on every route that
writes a message on a record: the mass-mail composer creates its e-mails as superuser, a
follower or a notification skips the document check. Each route is sent as a JSON-RPC client
would, by a user who reads the group (an accountant) or not even that (another provider)."""

from contextlib import contextmanager

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon

MUTED = ("odoo.models", "odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")


def open_composer(test, user, record, mode, body="<p>Hello</p>"):
    """Odoo's composer as ``user`` opens it on ``record`` (to a client in comment mode)."""
    return (
        test.env["mail.compose.message"]
        .with_user(user)
        .create(
            {
                "composition_mode": mode,
                "model": record._name,
                "res_ids": [record.id],
                "subject": "Hello",
                "body": body,
                "partner_ids": [(4, test.clients[5].id)] if mode == "comment" else [],
            }
        )
    )


@tagged("post_install", "-at_install")
class TestPostingNeedsTheRightToPost(GroupTherapyCommon):
    """The accountant reads groups (to invoice) but may not post on them; Other Olga reads
    neither Provider Pat's group nor its session."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.session = cls._make_session(cls.group, days=2)
        cls.accountant.email = "al@example.com"
        cls.other_provider.email = "olga@example.com"

    def _messages_on(self, record):
        return (
            self.env["mail.message"]
            .sudo()
            .search([("model", "=", record._name), ("res_id", "=", record.id)])
        )

    @contextmanager
    def assertNothingPosted(self, record):
        before = self._messages_on(record)
        with self.assertRaises(AccessError) as catcher, mute_logger(*MUTED):
            yield catcher
        self.env.invalidate_all()
        self.assertEqual(self._messages_on(record), before, "nothing is written there")
        self.assertNotIn(record.sudo().display_name, str(catcher.exception))

    def _targets(self):
        """(user, record) pairs: the user may not post on the record."""
        return [
            (self.accountant, self.group),
            (self.accountant, self.session),
            (self.other_provider, self.group),
            (self.other_provider, self.session),
        ]

    def test_mass_mail_composer_writes_nothing_on_a_record_closed_to_posting(self):
        for user, record in self._targets():
            with self.subTest(user=user.name, model=record._name):
                with self.assertNothingPosted(record):
                    open_composer(self, user, record, "mass_mail").action_send_mail()

    def test_comment_composer_posts_nothing_on_a_record_closed_to_posting(self):
        """Refused by Odoo already (``message_post`` as the user): kept as the other routes'
        yardstick."""
        for user, record in self._targets():
            with self.subTest(user=user.name, model=record._name):
                with self.assertNothingPosted(record):
                    open_composer(self, user, record, "comment").action_send_mail()

    def test_reading_a_group_is_not_following_its_chatter(self):
        """A follower receives what is posted: the accountant reads the group, not its
        messages, so following it is refused as Odoo refuses a record one may not read."""
        self.assertFalse(
            self.group.with_user(self.accountant).message_subscribe(
                partner_ids=self.accountant.partner_id.ids
            )
        )
        self.assertNotIn(self.accountant.partner_id, self.group.message_partner_ids)
        self.assertTrue(
            self.group.with_user(self.shared_provider).message_subscribe(
                partner_ids=self.shared_provider.partner_id.ids
            )
        )
        self.assertIn(self.shared_provider.partner_id, self.group.message_partner_ids)

    def test_follower_posts_nothing_without_the_right_to_post(self):
        """Odoo lets a follower post: one added by staff still needs the right to post."""
        self.group.sudo()._message_subscribe(partner_ids=self.accountant.partner_id.ids)
        with self.assertNothingPosted(self.group):
            self.group.with_user(self.accountant).message_post(
                body="Hi", message_type="comment", subtype_xmlid="mail.mt_comment"
            )

    def test_no_notification_names_a_record_closed_to_posting(self):
        for user, record in self._targets():
            with self.subTest(user=user.name, model=record._name):
                with self.assertNothingPosted(record):
                    self.env["mail.thread"].with_user(user).message_notify(
                        model=record._name,
                        res_id=record.id,
                        partner_ids=user.partner_id.ids,
                        body="Hi",
                    )
                with self.assertNothingPosted(record):
                    self.env["mail.message"].with_user(user).create(
                        {
                            "model": record._name,
                            "res_id": record.id,
                            "message_type": "user_notification",
                            "body": "Hi",
                            "partner_ids": [(4, user.partner_id.id)],
                        }
                    )
                with self.assertNothingPosted(record):
                    self.env["mail.message"].with_user(user).create(
                        {"model": record._name, "res_id": record.id, "body": "Hi"}
                    )

    def test_no_scheduled_message_on_a_record_closed_to_posting(self):
        """Refused by Odoo already (it checks ``_mail_post_access`` on the record)."""
        for user, record in self._targets():
            with self.subTest(user=user.name, model=record._name):
                with self.assertRaises(AccessError), mute_logger(*MUTED):
                    self.env["mail.scheduled.message"].with_user(user).create(
                        {
                            "model": record._name,
                            "res_id": record.id,
                            "body": "Hi",
                            "scheduled_date": "2099-01-01 10:00:00",
                        }
                    )


@tagged("post_install", "-at_install")
class TestPostingWhereOneMayStillWorks(GroupTherapyCommon):
    """What each role may do is unchanged: the accountant writes on invoices, those who serve
    the group on the group and its sessions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ensure_chart_of_accounts()
        cls.session = cls._make_session(cls.group, days=2)
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.clients[5].id,
                "invoice_line_ids": [(0, 0, {"name": "Copy of records", "price_unit": 10.0})],
            }
        )

    def _send(self, user, record, mode):
        open_composer(self, user, record, mode, "<p>Hello from the practice</p>").action_send_mail()
        return self.env["mail.message"].sudo().search(
            [("model", "=", record._name), ("res_id", "=", record.id),
             ("body", "ilike", "Hello from the practice")]
        )  # fmt: skip

    def test_accountant_still_writes_on_invoices(self):
        for mode in ("comment", "mass_mail"):
            with self.subTest(mode=mode):
                self.assertTrue(self._send(self.accountant, self.invoice, mode))
        message = self.invoice.with_user(self.accountant).message_post(
            body="Paid by check", message_type="comment", subtype_xmlid="mail.mt_note"
        )
        self.assertEqual(message.model, "account.move")

    def test_those_who_serve_the_group_still_write(self):
        for user, record in (
            (self.provider, self.group),
            (self.shared_provider, self.session),
            (self.front_desk, self.group),
            (self.front_desk, self.session),
        ):
            for mode in ("comment", "mass_mail"):
                with self.subTest(user=user.name, model=record._name, mode=mode):
                    self.assertTrue(self._send(user, record, mode))
            with self.subTest(user=user.name, model=record._name, route="notify"):
                message = record.with_user(user).message_notify(
                    partner_ids=self.manager.partner_id.ids, body="Room changed"
                )
                self.assertEqual(message.res_id, record.id)


@tagged("post_install", "-at_install")
class TestOdooFieldsNameNoHiddenRecord(GroupTherapyCommon):
    """Odoo's own fields that name a record by id show its name as superuser: an activity's
    document (``res_name``), a survey answer's contact, a message's author. Other Olga reads
    neither Provider Pat's group, its session nor its clients; a colleague without a Group
    Therapy role (a survey officer) reads no client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session = cls._make_session(cls.group, days=2)
        cls.hidden = cls.clients[0]
        cls.survey_user = new_test_user(
            cls.env, "gt_mail_survey", groups="base.group_user,survey.group_survey_user"
        )
        cls.survey = cls.env["survey.survey"].create({"title": "Staff satisfaction"})
        cls.secrets = (cls.hidden.name, cls.group.name, cls.session.sudo().display_name)

    @contextmanager
    def assertRefusedWithoutName(self):
        with self.assertRaises(AccessError) as catcher, mute_logger(*MUTED):
            yield
        for secret in self.secrets:
            self.assertNotIn(secret, str(catcher.exception))

    def _hidden_documents(self):
        return [self.group, self.session, self.hidden]

    def test_activity_form_names_no_hidden_document(self):
        Activity = self.env["mail.activity"].with_user(self.other_provider)
        spec = {"res_model_id": {}, "res_model": {}, "res_id": {}, "res_name": {}}
        for document in self._hidden_documents():
            values = {
                "res_model_id": self.env["ir.model"]._get_id(document._name),
                "res_id": document.id,
            }
            with self.subTest(model=document._name, route="onchange"):
                with self.assertRefusedWithoutName():
                    Activity.onchange(values, [], spec)
                with self.assertRefusedWithoutName():
                    Activity.onchange(values, ["res_id"], spec)
            with self.subTest(model=document._name, route="default"):
                with self.assertRefusedWithoutName():
                    Activity.with_context(
                        default_res_model=document._name, default_res_id=document.id
                    ).onchange({}, [], spec)

    def test_no_activity_is_moved_to_a_hidden_document(self):
        own = (
            self.env["mail.activity"]
            .with_user(self.other_provider)
            .create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("therapy.group"),
                    "res_id": self.other_group.id,
                    "summary": "Call the supervisor",
                    "user_id": self.other_provider.id,
                }
            )
        )
        for document in self._hidden_documents():
            with self.subTest(model=document._name), self.assertRefusedWithoutName():
                own.write(
                    {
                        "res_model_id": self.env["ir.model"]._get_id(document._name),
                        "res_id": document.id,
                    }
                )
        with self.assertRefusedWithoutName():
            own.write({"res_id": self.group.id})
        self.assertEqual(own.sudo().res_id, self.other_group.id)
        # what she reads is still named
        own.write({"res_id": self.other_group.id, "summary": "Call the supervisor today"})
        self.assertEqual(own.res_name, self.other_group.display_name)

    def test_survey_answer_names_no_hidden_contact(self):
        Answer = self.env["survey.user_input"].with_user(self.survey_user)
        spec = {"partner_id": {"fields": {"display_name": {}}}, "survey_id": {}}
        values = {"survey_id": self.survey.id, "partner_id": self.hidden.id}
        with self.assertRefusedWithoutName():
            Answer.onchange(values, [], spec)
        with self.assertRefusedWithoutName():
            Answer.create(values)
        own = Answer.create(
            {"survey_id": self.survey.id, "partner_id": self.survey_user.partner_id.id}
        )
        with self.assertRefusedWithoutName():
            own.write({"partner_id": self.hidden.id})
        self.assertEqual(own.partner_id, self.survey_user.partner_id)

    def test_message_author_is_a_contact_one_reads(self):
        """A message's author (and the composer's) is shown by name as superuser."""
        spec = {"author_id": {"fields": {"display_name": {}}}}
        for user in (self.other_provider, self.survey_user):
            for model, values in (
                ("mail.message", {"body": "Hi"}),
                ("mail.compose.message", {"composition_mode": "comment", "body": "Hi"}),
            ):
                Model = self.env[model].with_user(user)
                named = {**values, "author_id": self.hidden.id}
                with self.subTest(user=user.name, model=model):
                    with self.assertRefusedWithoutName():
                        Model.onchange(named, [], spec)
                    with self.assertRefusedWithoutName():
                        Model.with_context(default_author_id=self.hidden.id).onchange(
                            values, [], spec
                        )
                    with self.assertRefusedWithoutName():
                        Model.create(named)
        message = (
            self.env["mail.message"]
            .with_user(self.other_provider)
            .create({"body": "Hi", "author_id": self.clients[4].id})
        )
        self.assertEqual(message.author_id, self.clients[4])

    def test_notification_names_no_hidden_contact(self):
        """A notification about a record shows the record's name (``record_name``, read as
        superuser) to its author and recipients: only about a record the user reads."""
        for user in (self.other_provider, self.survey_user):
            Message = self.env["mail.message"].with_user(user)
            values = {
                "model": "res.partner",
                "message_type": "user_notification",
                "body": "Hi",
                "partner_ids": [(4, user.partner_id.id)],
            }
            with self.subTest(user=user.name), self.assertRefusedWithoutName():
                Message.create({**values, "res_id": self.hidden.id})
            with self.subTest(user=user.name, route="message_notify"):
                with self.assertRefusedWithoutName():
                    self.env["mail.thread"].with_user(user).message_notify(
                        model="res.partner",
                        res_id=self.hidden.id,
                        partner_ids=user.partner_id.ids,
                        body="Hi",
                    )
        own = (
            self.env["mail.message"]
            .with_user(self.other_provider)
            .create({**values, "res_id": self.clients[4].id})
        )
        self.assertEqual(own.record_name, self.clients[4].name)

    def test_no_hidden_contact_follows_a_record(self):
        """Odoo lists a record's followers by name and e-mail as superuser (and sends them its
        messages): a client's id added as follower of one's own meeting named the client."""
        for user in (self.other_provider, self.survey_user):
            meeting = (
                self.env["calendar.event"]
                .with_user(user)
                .create(
                    {
                        "name": "Budget review",
                        "start": "2099-01-05 10:00:00",
                        "stop": "2099-01-05 11:00:00",
                    }
                )
            )
            with self.subTest(user=user.name):
                meeting.message_subscribe(
                    partner_ids=[self.hidden.id, self.front_desk.partner_id.id]
                )
                followers = meeting.sudo().message_partner_ids
                self.assertNotIn(self.hidden, followers)
                self.assertIn(self.front_desk.partner_id, followers, "colleagues still follow")
                names = (
                    self.env["mail.followers"]
                    .with_user(user)
                    .search_read(
                        [("res_model", "=", "calendar.event"), ("res_id", "=", meeting.id)],
                        ["display_name", "name", "email"],
                    )
                )
                self.assertNotIn(self.hidden.name, str(names))
        own = self.clients[4].with_user(self.other_provider)
        own.message_subscribe(partner_ids=[self.other_provider.partner_id.id, own.id])
        self.assertIn(own, own.sudo().message_partner_ids, "her own client still follows")

    def test_no_user_field_names_a_hidden_clients_login(self):
        """A client with a portal login is a user named as the client: an activity's assignee,
        a meeting's organizer, a contact's salesperson or a survey's responsible sent with that
        login's id showed the client's name."""
        login = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "login": "client01.portal",
                    "partner_id": self.hidden.id,
                    "group_ids": [(6, 0, self.env.ref("base.group_portal").ids)],
                }
            )
        )
        self.assertEqual(login.name, self.hidden.name)
        spec = {"user_id": {"fields": {"display_name": {}}}}
        olga = self.other_provider
        activity_values = {
            "res_model_id": self.env["ir.model"]._get_id("therapy.group"),
            "res_id": self.other_group.id,
            "summary": "Call back",
        }
        meeting_values = {
            "name": "Budget review",
            "start": "2099-01-05 10:00:00",
            "stop": "2099-01-05 11:00:00",
        }
        survey_colleague = new_test_user(
            self.env, "gt_mail_survey2", groups="base.group_user,survey.group_survey_user"
        )
        for user, model, values, colleague in (
            (olga, "mail.activity", activity_values, self.front_desk),
            (olga, "calendar.event", meeting_values, self.front_desk),
            (olga, "res.partner", {"name": "Dana Referrer"}, self.front_desk),
            (self.survey_user, "survey.survey", {"title": "Staff survey"}, survey_colleague),
        ):
            Model = self.env[model].with_user(user)
            with self.subTest(model=model):
                with self.assertRefusedWithoutName():
                    Model.onchange({**values, "user_id": login.id}, [], spec)
                with self.assertRefusedWithoutName():
                    Model.with_context(default_user_id=login.id).onchange(values, [], spec)
                with self.assertRefusedWithoutName():
                    Model.create({**values, "user_id": login.id})
                own = Model.create({**values, "user_id": colleague.id})
                with self.assertRefusedWithoutName():
                    own.write({"user_id": login.id})
                self.assertEqual(own.user_id, colleague, "a colleague is still named")

    def test_no_hidden_client_is_invited_into_a_channel(self):
        """A colleague inviting a client's contact by id into a Discuss channel read the
        member's name back (``discuss.channel.member.partner_id``, shown as superuser): the
        invitation, the member created over RPC and a sub-channel's members (created as
        superuser by Odoo) take only a contact the user reads; a colleague is still invited."""
        Channel = self.env["discuss.channel"].with_user(self.survey_user)
        channel = Channel._create_channel(name="Staff room", group_id=None)
        Member = self.env["discuss.channel.member"].with_user(self.survey_user)
        with self.assertRefusedWithoutName():
            channel.add_members(partner_ids=[self.hidden.id])
        with self.assertRefusedWithoutName():
            Member.create({"channel_id": channel.id, "partner_id": self.hidden.id})
        spec = {"partner_id": {"fields": {"display_name": {}}}}
        with self.assertRefusedWithoutName():
            Member.onchange({"channel_id": channel.id, "partner_id": self.hidden.id}, [], spec)
        sub_channel = channel._create_sub_channel(name="Rota")
        with self.assertRefusedWithoutName():
            sub_channel.add_members(partner_ids=[self.hidden.id])
        self.assertNotIn(self.hidden, (channel | sub_channel).sudo().channel_member_ids.partner_id)
        channel.add_members(partner_ids=[self.front_desk.partner_id.id])
        self.assertIn(self.front_desk.partner_id, channel.sudo().channel_member_ids.partner_id)
