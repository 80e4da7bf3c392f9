"""A client's clinical records follow the client's groups whatever is already in the ORM's cache
(issue 12). Odoo shares one cache per transaction between every user and superuser, and checks
a record rule on given records in Python, reading the rule's path from that cache. These tests
run several users one after another in one environment, as server code does, each through the
methods RPC calls (with_user): what one user read first must never widen or narrow what the
next one reads."""

from contextlib import contextmanager, suppress

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import GroupTherapyCommon

# Every model that holds a client's clinical facts, the field leading to the client, and a few
# fields to read.
CLINICAL_MODELS = {
    "therapy.client.profile": ("partner_id", ["birthdate", "payer_id", "fee_exempt"]),
    "therapy.client.diagnosis": ("partner_id", ["diagnosis_id", "code", "pointer"]),
    "therapy.coverage": ("partner_id", ["member_ident", "payer_id", "copay_amount"]),
    "therapy.part2.consent": ("partner_id", ["recipient_id", "purpose", "information"]),
    "therapy.treatment.goal": ("partner_id", ["problem", "name"]),
    "therapy.measure.result": ("partner_id", ["instrument", "score", "summary"]),
    "survey.user_input": ("partner_id", ["scoring_percentage", "state"]),
    "survey.user_input.line": ("user_input_id.partner_id", ["answer_score", "question_id"]),
}
# A change to try on each model (the first field read above).
WRITE_VALUES = {
    "therapy.client.profile": {"fee_exempt": False},
    "therapy.client.diagnosis": {"sequence": 99},
    "therapy.coverage": {"member_ident": "CHANGED"},
    "therapy.part2.consent": {"information": "Everything"},
    "therapy.treatment.goal": {"name": "Changed"},
    "therapy.measure.result": {"score": 27},
    "survey.user_input": {"scoring_percentage": 100.0},
    "survey.user_input.line": {"answer_score": 3.0},
}
# A client's clinical fields on the contact (res.partner).
PARTNER_FIELDS = [
    "therapy_profile_ids",
    "therapy_birthdate",
    "therapy_payer_id",
    "therapy_fee_exempt",
    "therapy_diagnosis_line_ids",
    "therapy_diagnosis_ids",
    "therapy_coverage_ids",
    "therapy_goal_ids",
    "therapy_part2_consent_ids",
]


@tagged("post_install", "-at_install")
class TestClinicalRulesSharedCache(GroupTherapyCommon):
    """Provider A (Provider Pat) runs a group; provider B (Other Olga) runs another with client Y
    (clients[4]) alone. Whatever B, the front desk or the server (as superuser) read of Y first,
    A then reads nothing of Y's clinical records by any route, and changes none; and what A
    tried first takes nothing from B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.provider_a, cls.provider_b = cls.provider, cls.other_provider
        cls.own, cls.y = cls.clients[0], cls.clients[4]
        # A colleague who is also a client, of B's group only: every colleague sees her
        # contact (test_privacy_contacts), so A can open it, but does not serve her.
        cls.colleague = new_test_user(
            cls.env, "gt_cache_colleague", groups="base.group_user", name="Colleague Cleo"
        ).partner_id
        # A client of both groups: A serves her through A's own group.
        cls.both = cls.clients[5]
        cls.env["therapy.group.member"].create(
            [
                {"group_id": cls.other_group.id, "partner_id": cls.colleague.id},
                {"group_id": cls.group.id, "partner_id": cls.both.id},
                {"group_id": cls.other_group.id, "partner_id": cls.both.id},
            ]
        )
        Partner = cls.env["res.partner"]
        cls.insurer = Partner.create(
            {"name": "Blue Shield", "is_company": True, "therapy_payer_code": "94036"}
        )
        cls.depression = cls.env.ref("group_therapy.therapy_diagnosis_f32_1")
        session_a = cls._make_session(cls.group, days=2)
        session_b = cls._make_session(cls.other_group, days=2)
        phq9 = cls.env.ref("group_therapy.survey_phq9")
        for client, session in (
            (cls.own, session_a),
            (cls.y, session_b),
            (cls.colleague, session_b),
            (cls.both, session_a),
        ):
            client.write(
                {
                    "therapy_birthdate": "1984-05-06",
                    "therapy_payer_id": cls.insurer.id,
                    "therapy_fee_exempt": True,
                    "therapy_diagnosis_ids": [Command.link(cls.depression.id)],
                }
            )
            cls.env["therapy.coverage"].create(
                {"partner_id": client.id, "payer_id": cls.insurer.id, "member_ident": "M-1"}
            )
            cls.env["therapy.part2.consent"].create(
                {
                    "partner_id": client.id,
                    "recipient_id": cls.insurer.id,
                    "purpose": "payment",
                    "information": "Diagnoses and services billed",
                    "date_signed": "2026-01-05",
                    "expiry_event": "Discharge from the program",
                }
            )
            cls.env["therapy.treatment.goal"].create(
                {"partner_id": client.id, "problem": "Panic", "name": "Rides the bus"}
            )
            cls._submit_phq9(phq9, client, session)
        export = cls.env.ref("base.group_allow_export")
        for user in (
            cls.provider,
            cls.shared_provider,
            cls.other_provider,
            cls.front_desk,
            cls.manager,
        ):
            user.group_ids = [Command.link(export.id)]
        cls.records = {
            client: cls._clinical_records(client) for client in cls.clients | cls.colleague
        }
        for client in (cls.own, cls.y, cls.colleague, cls.both):
            for model, records in cls.records[client].items():
                assert records, f"{model} has a record of {client.name}"

    @classmethod
    def _submit_phq9(cls, survey, client, session):
        """The client's PHQ-9, every item answered 1, submitted through the client's token."""
        user_input = survey.sudo()._create_answer(
            partner=client, check_attempts=False, therapy_event_id=session.id
        )
        for question in survey.sudo().question_ids.filtered("therapy_item"):
            answer = question.suggested_answer_ids.filtered(lambda a: a.answer_score == 1)
            user_input._save_lines(question, answer.id)
        user_input._mark_done()

    @classmethod
    def _clinical_records(cls, client):
        """{model: the client's records of that model}, read as superuser."""
        return {
            model: cls.env[model].with_context(active_test=False).search([(path, "=", client.id)])
            for model, (path, _fields) in CLINICAL_MODELS.items()
        }

    @contextmanager
    def assertRefusedAccess(self):
        """The block raises AccessError. Not Odoo's assertRaises: that clears the cache first,
        and what the previous users left in it is the point here. A refusal comes before any
        change, so there is nothing to roll back."""
        try:
            with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
                yield
        except AccessError:
            return
        self.fail("AccessError not raised")

    def _read_everything(self, user, client):
        """What ``user`` does with the client's clinical records (refusals muted): list, open,
        group, export each model, open the client's form, and the server's own reads as
        superuser (billing does them). It fills the cache; it asserts nothing."""
        for model, (path, names) in CLINICAL_MODELS.items():
            records = self.records[client][model]
            Model = self.env[model].with_user(user)
            with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
                Model.search_read([(path, "=", client.id)], names)
                Model.formatted_read_group([(path, "=", client.id)], [path], ["__count"])
                with suppress(AccessError):
                    records.with_user(user).read(names)
                    records.with_user(user).export_data(names)
            records.sudo().read(names)
        client_as_user = client.with_user(user)
        with (
            mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            suppress(AccessError),
        ):
            client_as_user.web_read(
                {
                    "therapy_member_ids": {"fields": {"group_id": {}}},
                    "therapy_diagnosis_line_ids": {"fields": {"code": {}}},
                    "therapy_coverage_ids": {"fields": {"member_ident": {}}},
                    **{name: {} for name in PARTNER_FIELDS},
                }
            )
        client_sudo = client.sudo()
        client_sudo.read(["therapy_member_ids", *PARTNER_FIELDS])
        client_sudo.therapy_member_ids.group_id.mapped("provider_id")

    def _assert_reads_nothing_of(self, user, client):
        """``user`` finds, opens, groups, exports and changes none of the client's clinical
        records, whatever the cache holds; the records stay as they were."""
        before = {
            model: self.records[client][model].sudo().read(list(values))
            for model, values in WRITE_VALUES.items()
        }
        for model, (path, names) in CLINICAL_MODELS.items():
            with self.subTest(model=model, user=user.login, client=client.name):
                records = self.records[client][model]
                Model = self.env[model].with_user(user)
                domain = [(path, "=", client.id)]
                self.assertFalse(Model.search(domain))
                self.assertFalse(Model.search([("id", "in", records.ids)]))
                self.assertFalse(Model.search_read(domain, names))
                self.assertEqual(Model.search_count(domain), 0)
                self.assertFalse(Model.formatted_read_group(domain, [path], ["__count"]))
                groups = Model.formatted_read_group([], [path], ["__count"])
                self.assertNotIn(client.id, [(group[path] or [0])[0] for group in groups])
                self.assertFalse(Model.search([]).filtered(lambda r, ids=records.ids: r.id in ids))
                with self.assertRefusedAccess():
                    records.with_user(user).read(names)
                with self.assertRefusedAccess():
                    records.with_user(user).export_data(names)
                with self.assertRefusedAccess():
                    records.with_user(user).web_read({name: {} for name in names})
                with self.assertRefusedAccess():
                    records.with_user(user).write(WRITE_VALUES[model])
                with self.assertRefusedAccess():
                    records.with_user(user).unlink()
        self.env.invalidate_all()
        for model, values in WRITE_VALUES.items():
            records = self.records[client][model].sudo()
            self.assertEqual(records.exists(), records)
            self.assertEqual(records.read(list(values)), before[model], model)

    def _assert_client_fields_empty(self, user, client):
        """``user`` sees the client's contact but does not serve the client: every route to the
        client's clinical fields reads them empty, and finds no client by them."""
        with self.subTest(user=user.login, client=client.name, route="contact"):
            Partner = self.env["res.partner"].with_user(user)
            (values,) = client.with_user(user).read(PARTNER_FIELDS)
            self.assertFalse([name for name in PARTNER_FIELDS if values[name]], values)
            (listed,) = Partner.search_read([("id", "=", client.id)], PARTNER_FIELDS)
            self.assertFalse([name for name in PARTNER_FIELDS if listed[name]], listed)
            (form,) = client.with_user(user).web_read(
                {
                    "therapy_diagnosis_line_ids": {"fields": {"code": {}}},
                    "therapy_coverage_ids": {"fields": {"member_ident": {}}},
                    "therapy_goal_ids": {"fields": {"name": {}}},
                    "therapy_part2_consent_ids": {"fields": {"purpose": {}}},
                    "therapy_diagnosis_ids": {"fields": {"display_name": {}}},
                    "therapy_birthdate": {},
                }
            )
            self.assertFalse([name for name, value in form.items() if name != "id" and value])
            (exported,) = client.with_user(user).export_data(
                [
                    "therapy_diagnosis_ids/code",
                    "therapy_diagnosis_line_ids/code",
                    "therapy_coverage_ids/member_ident",
                    "therapy_birthdate",
                ]
            )["datas"]
            self.assertFalse([value for value in exported if value], exported)
            for domain in (
                [("therapy_diagnosis_line_ids.diagnosis_id", "in", self.depression.ids)],
                [("therapy_diagnosis_line_ids.code", "=", "F32.1")],
                [("therapy_coverage_ids.member_ident", "=", "M-1")],
                [("therapy_birthdate", "=", "1984-05-06")],
                [("therapy_goal_ids.name", "=", "Rides the bus")],
            ):
                self.assertNotIn(client, Partner.search([("id", "=", client.id), *domain]))
            diagnoses = client.sudo().therapy_diagnosis_ids
            with self.assertRefusedAccess():
                client.with_user(user).write({"therapy_diagnosis_ids": [Command.clear()]})
            self.env.invalidate_all()
            self.assertEqual(client.sudo().therapy_diagnosis_ids, diagnoses)

    def test_a_provider_reads_nothing_after_the_client_s_provider_did(self):
        """B, the front desk and the server read Y's records (and Y's memberships) first; then A,
        in the same transaction, finds none of them by any route."""
        for reader in (self.provider_b, self.front_desk, self.manager):
            self._read_everything(reader, self.y)
        self._assert_reads_nothing_of(self.provider_a, self.y)
        self._assert_reads_nothing_of(self.shared_provider, self.y)
        # the contact itself stays closed to A (test_privacy_contacts)
        with self.assertRefusedAccess():
            self.y.with_user(self.provider_a).read(PARTNER_FIELDS)
        self.assertFalse(
            self.env["res.partner"].with_user(self.provider_a).search([("id", "=", self.y.id)])
        )

    def test_a_colleague_s_client_fields_stay_empty_after_her_provider_read_them(self):
        """A colleague who is a client of B's group: A opens her contact (a colleague), and after
        B and the server read her clinical fields, A still reads them empty."""
        for reader in (self.provider_b, self.front_desk):
            self._read_everything(reader, self.colleague)
        self._assert_client_fields_empty(self.provider_a, self.colleague)
        self._assert_reads_nothing_of(self.provider_a, self.colleague)

    def test_the_client_s_provider_reads_everything_after_a_provider_tried(self):
        """A tries Y's records first (refused, or nothing found), then B and the front desk read
        every one of them: what A's attempts put in the cache takes nothing away."""
        self._read_everything(self.provider_a, self.y)
        self._read_everything(self.provider_a, self.colleague)
        self._assert_reads_nothing_of(self.provider_a, self.y)
        for user in (self.provider_b, self.front_desk, self.manager):
            for client in (self.y, self.colleague):
                self._assert_reads_everything_of(user, client)

    def test_a_provider_serving_a_client_of_two_groups_reads_after_the_other_provider(self):
        """A client of A's group and of B's: B opens her contact first (her memberships are read
        as B: B's group only), then A reads every clinical record of hers by every route, and
        so does A's shared provider; B keeps reading them too."""
        self.env.invalidate_all()
        (form,) = self.both.with_user(self.provider_b).web_read(
            {"therapy_member_ids": {"fields": {"group_id": {"fields": {"display_name": {}}}}}}
        )
        self.assertEqual(
            [member["group_id"]["id"] for member in form["therapy_member_ids"]],
            self.other_group.ids,
        )
        self._read_everything(self.provider_b, self.both)
        for user in (self.provider_a, self.shared_provider, self.provider_b):
            self._assert_reads_everything_of(user, self.both)

    def _assert_reads_everything_of(self, user, client):
        """``user`` finds and reads every clinical record of the client, by every route."""
        for model, (path, names) in CLINICAL_MODELS.items():
            with self.subTest(model=model, user=user.login, client=client.name):
                records = self.records[client][model]
                Model = self.env[model].with_user(user)
                domain = [(path, "=", client.id)]
                self.assertEqual(Model.search(domain), records)
                self.assertEqual(len(Model.search_read(domain, names)), len(records))
                (group,) = Model.formatted_read_group(domain, [path], ["__count"])
                self.assertEqual(group["__count"], len(records))
                self.assertEqual(len(records.with_user(user).read(names)), len(records))
                self.assertEqual(
                    len(records.with_user(user).export_data(names)["datas"]), len(records)
                )

    def test_a_provider_reads_own_clients_after_a_colleague_tried(self):
        """B tries A's client first; A then reads that client's records, B reads none."""
        self._read_everything(self.provider_b, self.own)
        self._assert_reads_nothing_of(self.provider_b, self.own)
        self._assert_reads_everything_of(self.provider_a, self.own)
        self._assert_reads_everything_of(self.shared_provider, self.own)

    def test_the_rules_cost_no_query_of_their_own(self):
        """A provider's search costs what the front desk's does (the rule is one subquery of
        the same query), and checking given records costs the same for one client or many."""
        own_clients = self.clients[:4]
        for model, (path, names) in CLINICAL_MODELS.items():
            with self.subTest(model=model):
                Model = self.env[model]

                def search(user, clients, Model=Model, path=path):
                    return Model.with_user(user).search([(path, "in", clients.ids)])

                def read(user, clients, model=model, names=names):
                    records = self.env[model].browse(
                        [record.id for client in clients for record in self.records[client][model]]
                    )
                    return records.with_user(user).read(names)

                for user in (self.provider_a, self.front_desk):  # warm Odoo's own caches
                    search(user, own_clients)
                    read(user, own_clients)
                self.assertEqual(
                    self._queries(lambda s=search: s(self.provider_a, own_clients)),
                    self._queries(lambda s=search: s(self.front_desk, own_clients)),
                )
                self.assertEqual(
                    self._queries(lambda r=read: r(self.provider_a, own_clients)),
                    self._queries(lambda r=read: r(self.provider_a, own_clients[:1])),
                )


@tagged("post_install", "-at_install")
class TestClinicalRulesFormerProvider(GroupTherapyCommon):
    """A provider whose Provider role was taken away stays listed among the shared providers of
    the group shared with her (the group's constraint is checked when the group changes, not
    the user). Like the group's sessions and notes, its clients' clinical records are then
    closed to her, though another role gives her the ACLs: here a survey officer who kept the
    Group Therapy base group reads survey answers, and a PHQ-9 is one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.former = new_test_user(
            cls.env,
            "gt_former_provider",
            groups="group_therapy.group_therapy_provider",
            name="Former Fay",
        )
        cls.group.shared_provider_ids = [Command.link(cls.former.id)]
        cls.former.group_ids = [
            Command.unlink(cls.env.ref("group_therapy.group_therapy_provider").id),
            Command.link(cls.env.ref("group_therapy.group_therapy_user").id),
            Command.link(cls.env.ref("survey.group_survey_user").id),
        ]
        cls.env.invalidate_all()
        # still stored (the field itself shows providers only)
        cls.env.cr.execute(
            "SELECT 1 FROM therapy_group_shared_provider_rel WHERE group_id = %s AND user_id = %s",
            [cls.group.id, cls.former.id],
        )
        assert cls.env.cr.fetchall()
        cls.own = cls.clients[0]
        session = cls._make_session(cls.group, days=2)
        TestClinicalRulesSharedCache._submit_phq9.__func__(
            cls, cls.env.ref("group_therapy.survey_phq9"), cls.own, session
        )
        cls.answers = cls.env["survey.user_input"].search([("partner_id", "=", cls.own.id)])
        cls.answer_lines = cls.answers.user_input_line_ids
        assert cls.answers and cls.answer_lines

    def test_a_former_provider_reads_no_clinical_record_of_a_group_still_shared(self):
        for model, records, path in (
            ("survey.user_input", self.answers, "partner_id"),
            ("survey.user_input.line", self.answer_lines, "user_input_id.partner_id"),
        ):
            with self.subTest(model=model):
                Model = self.env[model].with_user(self.former)
                self.assertFalse(Model.search([(path, "=", self.own.id)]))
                self.assertFalse(Model.search_read([(path, "=", self.own.id)], ["id"]))
                self.assertFalse(Model.search_count([("id", "in", records.ids)]))
                self.assertFalse(
                    Model.formatted_read_group([("id", "in", records.ids)], [], ["__count"])[0][
                        "__count"
                    ]
                )
                with (
                    self.assertRaises(AccessError),
                    mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
                ):
                    records.with_user(self.former).read(["id"])
                # what the Provider role gives back, the rules give back too
                self.former.group_ids = [
                    Command.link(self.env.ref("group_therapy.group_therapy_provider").id)
                ]
                self.assertEqual(Model.search([(path, "=", self.own.id)]), records)
                self.assertEqual(len(records.with_user(self.former).read(["id"])), len(records))
                self.former.group_ids = [
                    Command.unlink(self.env.ref("group_therapy.group_therapy_provider").id)
                ]
