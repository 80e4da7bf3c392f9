import base64
import csv
import io
import json

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import UserError

CLAIM_COLUMNS = [
    "client",
    "client_ref",
    "payer",
    "date_of_service",
    "place_of_service",
    "cpt",
    "modifiers",
    "units",
    "charge",
    "diagnoses",
    "rendering_provider",
    "rendering_npi",
    "group",
    "invoice",
]


class TherapyClaimExportWizard(models.TransientModel):
    _name = "therapy.claim.export.wizard"
    _description = "Claim Lines Export"

    def _default_date_from(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    def _default_date_to(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(days=1)

    date_from = fields.Date(required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(required=True, default=lambda self: self._default_date_to())
    group_ids = fields.Many2many("therapy.group", string="Groups", help="Empty: every group.")
    file_format = fields.Selection(
        selection=[("csv", "CSV"), ("json", "JSON")], required=True, default="csv"
    )
    data = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    def action_export(self):
        """The claim lines of the period for a clearinghouse; fees are never on them."""
        self.ensure_one()
        if self.date_to < self.date_from:
            raise UserError(
                self.env._("The period ends before it starts: set To on or after From.")
            )
        domain = [
            ("state", "=", "attended"),
            ("product_id.therapy_code_kind", "=", "cpt"),
            ("event_start", ">=", fields.Datetime.to_datetime(self.date_from)),
            ("event_start", "<", fields.Datetime.to_datetime(self.date_to) + relativedelta(days=1)),
        ]
        if self.group_ids:
            domain.append(("group_id", "in", self.group_ids.ids))
        rows = self.env["therapy.attendance"].search(domain)._claim_lines()
        if not rows:
            raise UserError(
                self.env._(
                    "No service to claim between %(start)s and %(end)s: no client attended a "
                    "session with a CPT code in that period.",
                    start=self.date_from,
                    end=self.date_to,
                )
            )
        if self.file_format == "json":
            content = json.dumps({"claim_lines": rows}, indent=2).encode()
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=CLAIM_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
            content = buffer.getvalue().encode()
        self.write(
            {
                "data": base64.b64encode(content),
                "filename": f"claim_lines_{self.date_from}_{self.date_to}.{self.file_format}",
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
