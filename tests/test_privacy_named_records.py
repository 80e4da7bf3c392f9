"""Records named by id over RPC: Odoo shows the name of the record a many2one names as
superuser (``web_read``, ``onchange``, related fields), so every field of the addon that names a
client, a session, a note or a goal takes only a record the user reads. Each case is sent as a
JSON-RPC client would: ``create``/``write`` values, an ``onchange`` (the form's first call, a
changed field, a line of a one2many) and the context's ``default_`` keys."""

from contextlib import contextmanager
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_charting import ChartingCommon

MUTED = ("odoo.models", "odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
NAME = {"fields": {"display_name": {}}}


@tagged("post_install", "-at_install")
class TestNamedRecordsAreReadable(ChartingCommon):
    """Other Olga runs the Family Recovery Group (Client 05). Client 01, its session, its
    chart note and its treatment goal belong to Provider Pat's group: Olga reads none of them,
    and no field may hand her their names."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hidden = cls.clients[0]
        cls.goal = cls.env["therapy.treatment.goal"].create(
            {"partner_id": cls.hidden.id, "problem": "Panic", "name": "Rides the bus alone"}
        )
        cls.other_group.member_ids.date_start = fields.Date.today() - timedelta(days=30)
        cls.other_session = cls._make_session(cls.other_group)
        cls.other_session.action_mark_all_attended()
        cls._chart()
        cls.hidden_note = cls._note(cls.hidden)
        cls.colleague = new_test_user(cls.env, "gt_named_colleague", groups="base.group_user")
        cls.survey_user = new_test_user(
            cls.env, "gt_named_survey", groups="base.group_user,survey.group_survey_user"
        )
        cls.meeting = (
            cls.env["calendar.event"]
            .with_user(cls.colleague)
            .create(
                {
                    "name": "Budget review",
                    "start": fields.Datetime.now() + timedelta(days=2),
                    "stop": fields.Datetime.now() + timedelta(days=2, hours=1),
                }
            )
        )
        cls.secrets = (
            cls.hidden.name,
            cls.hidden.email,
            cls.group.name,
            "Rides the bus",
        )

    def _cases(self):
        """(user, model, values, field naming the hidden record, its hidden id)."""
        olga, own_client = self.other_provider, self.clients[4]
        survey = self.env.ref("group_therapy.survey_phq9")
        return [
            (olga, "therapy.group.member", {"group_id": self.other_group.id}, "partner_id",
             self.hidden.id),
            (olga, "therapy.group.member", {"partner_id": own_client.id}, "group_id",
             self.group.id),
            (olga, "therapy.group.waitlist", {"group_id": self.other_group.id}, "partner_id",
             self.hidden.id),
            (self.colleague, "calendar.attendee", {"event_id": self.meeting.id}, "partner_id",
             self.hidden.id),
            (olga, "therapy.part2.disclosure.wizard", {}, "recipient_id", self.hidden.id),
            (olga, "therapy.client.profile", {"partner_id": own_client.id},
             "billing_partner_id", self.hidden.id),
            (olga, "therapy.client.profile", {"partner_id": own_client.id}, "payer_id",
             self.hidden.id),
            (olga, "res.partner", {"name": "New client"}, "therapy_billing_partner_id",
             self.hidden.id),
            (olga, "res.partner", {"name": "Assistant"}, "parent_id", self.hidden.id),
            (self.colleague, "res.partner", {"name": "Assistant"}, "parent_id", self.hidden.id),
            (olga, "therapy.client.diagnosis", {"diagnosis_id": self.diagnosis.id},
             "partner_id", self.hidden.id),
            (olga, "therapy.treatment.goal", {"problem": "Sleep", "name": "Sleeps"},
             "partner_id", self.hidden.id),
            (olga, "therapy.attendance", {"event_id": self.other_session.id}, "partner_id",
             self.hidden.id),
            (olga, "therapy.attendance", {"partner_id": own_client.id}, "event_id",
             self.session.id),
            (olga, "therapy.chart.note", {}, "event_id", self.session.id),
            (olga, "therapy.chart.note.addendum", {"body": "<p>Late fact</p>"}, "note_id",
             self.hidden_note.id),
            (olga, "therapy.charting.wizard", {}, "event_id", self.session.id),
            (olga, "therapy.charting.wizard.line", {}, "partner_id", self.hidden.id),
            (olga, "therapy.group.addendum.wizard", {}, "event_id", self.session.id),
            (self.survey_user, "survey.user_input", {"survey_id": survey.id},
             "therapy_event_id", self.session.id),
        ]  # fmt: skip

    @contextmanager
    def assertRefusedWithoutName(self):
        """Refused, by a message that names nothing hidden."""
        with self.assertRaises(AccessError) as catcher, mute_logger(*MUTED):
            yield
        for secret in self.secrets:
            self.assertNotIn(secret, str(catcher.exception))

    def test_onchange_shows_no_hidden_name(self):
        """The form's first onchange, a changed field and the context's defaults."""
        for user, model, values, fname, hidden_id in self._cases():
            Model = self.env[model].with_user(user)
            spec = {fname: NAME, **{name: {} for name in values}}
            named = {**values, fname: hidden_id}
            with self.subTest(model=model, field=fname, route="onchange"):
                with self.assertRefusedWithoutName():
                    Model.onchange(named, [], spec)
                with self.assertRefusedWithoutName():
                    Model.onchange(named, [fname], spec)
            with self.subTest(model=model, field=fname, route="default"):
                by_default = Model.with_context(**{f"default_{fname}": hidden_id})
                with self.assertRefusedWithoutName():
                    by_default.onchange(values, [], spec)

    def test_nothing_is_created_naming_a_hidden_record(self):
        for user, model, values, fname, hidden_id in self._cases():
            if model == "therapy.chart.note":
                continue  # only charting creates notes (test_charting)
            Model = self.env[model].with_user(user)
            before = self.env[model].sudo().search_count([])
            with self.subTest(model=model, field=fname, route="create"):
                with self.assertRefusedWithoutName():
                    Model.create({**values, fname: hidden_id})
            with self.subTest(model=model, field=fname, route="default"):
                by_default = Model.with_context(**{f"default_{fname}": hidden_id})
                with self.assertRefusedWithoutName():
                    by_default.create(values)
            self.assertEqual(self.env[model].sudo().search_count([]), before)

    def test_no_record_is_repointed_to_a_hidden_record(self):
        own_line = self.other_session.therapy_attendance_ids[:1]
        own_client = self.clients[4]
        for record, fname, hidden_id in (
            (own_line, "partner_id", self.hidden.id),
            (own_line, "event_id", self.session.id),
            (own_client, "therapy_billing_partner_id", self.hidden.id),
            (own_client, "therapy_payer_id", self.hidden.id),
            (own_client, "parent_id", self.hidden.id),
            (self.other_group.member_ids[:1], "partner_id", self.hidden.id),
        ):
            with self.subTest(model=record._name, field=fname):
                with self.assertRefusedWithoutName():
                    record.with_user(self.other_provider).write({fname: hidden_id})
                self.env.invalidate_all()
                self.assertNotEqual(record.sudo()[fname].id, hidden_id)

    def test_a_line_of_the_form_names_no_hidden_client(self):
        """The charting form sent with a new client line (the onchange shows it unsaved)."""
        wizard = self._open_wizard(user=self.other_provider, session=self.other_session)
        spec = {"line_ids": {"fields": {"partner_id": NAME}}}
        with self.assertRefusedWithoutName():
            wizard.onchange(
                {"line_ids": [(0, "virtual_1", {"partner_id": self.hidden.id})]},
                ["line_ids"],
                spec,
            )

    def test_a_line_typed_in_a_form_names_no_hidden_record(self):
        """A membership typed in the group's or the contact's form, an attendee typed in a
        meeting's form: the form's onchange shows the unsaved line with its names."""
        olga, client = self.other_provider, {"partner_id": self.hidden.id}
        for user, record, fname, values in (
            (olga, self.other_group, "member_ids", client),
            (olga, self.other_group, "waitlist_ids", client),
            (olga, self.clients[4], "therapy_member_ids", {"group_id": self.group.id}),
            (self.colleague, self.meeting, "attendee_ids", client),
        ):
            spec = {fname: {"fields": dict.fromkeys(values, NAME)}}
            with self.subTest(model=record._name, field=fname), self.assertRefusedWithoutName():
                record.with_user(user).onchange({fname: [(0, "virtual_1", values)]}, [fname], spec)

    def test_accountant_learns_no_attendance_through_a_claim_form(self):
        """Accounting reads claims, not attendance lines: a claim's client and session follow
        its line, so a claim form sent with the line of a client never billed to an insurer
        would say who attended which session."""
        line = self.session.therapy_attendance_ids.filtered(
            lambda line: line.partner_id == self.clients[2]
        )
        self.secrets += (self.clients[2].name,)
        Claim = self.env["therapy.claim"].with_user(self.accountant)
        spec = {"attendance_id": {}, "partner_id": NAME, "event_id": NAME}
        with self.assertRefusedWithoutName():
            Claim.onchange({"attendance_id": line.id}, [], spec)
        with self.assertRefusedWithoutName():
            Claim.with_context(default_attendance_id=line.id).onchange({}, [], spec)

    def test_what_the_user_reads_is_still_named(self):
        """The front desk names any client; a provider their own clients and sessions; a
        record opened again shows what it holds."""
        Member = self.env["therapy.group.member"]
        spec = {"partner_id": NAME}
        result = Member.with_user(self.front_desk).onchange(
            {"group_id": self.other_group.id, "partner_id": self.hidden.id}, [], spec
        )
        self.assertEqual(result["value"]["partner_id"]["display_name"], self.hidden.name)
        own = self.other_group.member_ids[:1].with_user(self.other_provider)
        own.write({"partner_id": own.partner_id.id})
        result = own.onchange({"partner_id": own.partner_id.id}, ["partner_id"], spec)
        self.assertNotIn("warning", result)
        wizard = (
            self.env["therapy.part2.disclosure.wizard"]
            .with_user(self.other_provider)
            .create({"recipient_id": self.clients[4].id})
        )
        self.assertEqual(
            wizard.web_read({"recipient_id": NAME})[0]["recipient_id"]["display_name"],
            self.clients[4].name,
        )
        line = self.session.therapy_attendance_ids[:1].with_user(self.provider)
        values = {"partner_id": line.partner_id.id, "event_id": self.session.id}
        result = line.onchange(
            {**values, "place_of_service": "10"},
            ["place_of_service"],
            {"partner_id": NAME, "event_id": NAME, "place_of_service": {}},
        )
        self.assertIsInstance(result["value"], dict)
