"""Red team over real HTTP (issue 12): the claim files (837P out, 835 in), the wizards that make
them and the charting wizard, Odoo 19's /json/2 API with a user's API key, server actions and
scheduled actions, and the addon's reports, each tried as provider A (runs the group), provider
B (runs another group, not shared), the front desk, an accountant without a Group Therapy role,
a colleague without one, and a client on the portal. README, "Privacy: routes red-teamed"."""

import base64
from datetime import timedelta

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .test_era_835 import Era835Common

REFUSED_LOGGERS = ("odoo.http", "odoo.models", "odoo.addons.base.models.ir_rule")


@tagged("post_install", "-at_install")
class TestPrivacyHttpRoutes(HttpCase, Era835Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = new_test_user(cls.env, "gt_http_colleague", groups="base.group_user")
        # the portal user is Ann, a client of the group
        cls.portal_user.partner_id = cls.ann
        cls.claim_files = cls.env["therapy.claim"].search([]).export_attachment_id
        # HttpCase keeps its HTTP session in `session`
        cls.event, cls.session = cls.session, None

    def _call(self, model, method, *args, **kwargs):
        """A JSON-RPC call as the web client sends it: the result, or the error's name."""
        try:
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            )
        except JsonRpcException as error:
            return error.args[0] if error.args else str(error)

    def _as(self, user):
        self.authenticate(user.login, user.login)

    def _charting(self):
        """Provider A's charting page, a client's own note and the group notes typed in it."""
        session = self._make_session(self.group, days=-2)
        session.action_mark_all_attended()
        action = session.with_user(self.provider).action_open_charting()
        wizard = self.env[action["res_model"]].with_user(self.provider).browse(action["res_id"])
        wizard.write(
            {
                "group_note": "<p>Practised grounding.</p>",
                "line_ids": [(1, wizard.line_ids[0].id, {"note": "<p>Relapsed last week.</p>"})],
            }
        )
        return wizard

    def test_a_wizard_is_read_by_the_user_who_opened_it(self):
        """Odoo gives transient records no rule of their own: provider B read provider A's
        charting lines (each client's name and the note typed for them, before any note
        exists) by id and listed every one with search_read; the accountant read the claim
        lines the front desk exported (diagnoses, and the clients left out, named)."""
        wizard = self._charting()
        export = (
            self.env["therapy.claim.export.wizard"]
            .with_user(self.front_desk)
            .create(
                {
                    "date_from": self.today - timedelta(days=3),
                    "date_to": self.today,
                    "file_format": "csv",
                }
            )
        )
        export.action_export()
        self.assertIn(b"F41.1", base64.b64decode(export.data))
        line = wizard.line_ids[0]
        for user in (self.other_provider, self.shared_provider, self.accountant):
            self._as(user)
            with self.subTest(user=user.login), mute_logger(*REFUSED_LOGGERS):
                for model, records, names in (
                    ("therapy.charting.wizard", wizard, ["group_note"]),
                    ("therapy.charting.wizard.line", line, ["partner_id", "note"]),
                    ("therapy.claim.export.wizard", export, ["data", "left_out"]),
                ):
                    self.assertEqual(
                        self._call(model, "read", records.ids, names),
                        "odoo.exceptions.AccessError",
                    )
                    listed = self._call(model, "search_read", [], ["id"])
                    if listed != "odoo.exceptions.AccessError":  # no ACL at all
                        self.assertNotIn(records.id, [row["id"] for row in listed])
                response = self.url_open(
                    f"/web/content?model=therapy.claim.export.wizard&id={export.id}"
                    "&field=data&download=true"
                )
                self.assertNotEqual(response.status_code, 200)
                self.assertNotIn(b"F41.1", response.content)
        # their own, as before
        self._as(self.provider)
        self.assertEqual(
            self._call("therapy.charting.wizard.line", "read", line.ids, ["note"])[0]["note"],
            "<p>Relapsed last week.</p>",
        )
        self._as(self.front_desk)
        response = self.url_open(
            f"/web/content?model=therapy.claim.export.wizard&id={export.id}&field=data"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn(b"F41.1", response.content)
