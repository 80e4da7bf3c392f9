import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# ICD-10-CM: a letter, two characters, then an optional dot and up to four more (F41.1, F43.10).
ICD10_CODE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class TherapyDiagnosis(models.Model):
    _name = "therapy.diagnosis"
    _description = "Diagnosis Code (ICD-10)"
    _order = "code"
    _rec_names_search = ["code", "name"]

    code = fields.Char(string="ICD-10 Code", required=True, index=True)
    name = fields.Char(string="Description", required=True, translate=True)
    active = fields.Boolean(default=True)

    _code_uniq = models.Constraint("UNIQUE(code)", "Each ICD-10 code is listed once.")

    @api.constrains("code")
    def _check_code(self):
        """An ICD-10-CM code as payers expect it on a claim."""
        for diagnosis in self:
            if not ICD10_CODE.match(diagnosis.code or ""):
                raise ValidationError(
                    self.env._(
                        "“%(code)s” is not an ICD-10 code: write it like F41.1 or F43.10.",
                        code=diagnosis.code,
                    )
                )

    @api.depends("code", "name")
    def _compute_display_name(self):
        for diagnosis in self:
            diagnosis.display_name = f"{diagnosis.code} {diagnosis.name or ''}".strip()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("code"):
                vals["code"] = vals["code"].strip().upper()
        return super().create(vals_list)
