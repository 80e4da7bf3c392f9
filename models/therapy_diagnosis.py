from odoo import api, fields, models
from odoo.exceptions import ValidationError

from . import icd10cm

# The code set shipped as data/therapy.diagnosis.csv, generated from the same pinned package
# (tools/icd10cm_codes.py): loading it does not need the package's slow import.
SHIPPED_CODES_FILE = "therapy.diagnosis.csv"


class TherapyDiagnosis(models.Model):
    _name = "therapy.diagnosis"
    _description = "Diagnosis Code (ICD-10-CM)"
    _order = "code"
    _rec_names_search = ["code", "name"]

    code = fields.Char(string="ICD-10 Code", required=True, index=True)
    name = fields.Char(string="Description", required=True, translate=True)
    active = fields.Boolean(default=True)

    _code_uniq = models.Constraint("UNIQUE(code)", "Each ICD-10 code is listed once.")

    @api.constrains("code")
    def _check_code(self):
        """A billable ICD-10-CM code (a leaf of the code set), as payers accept on a claim."""
        if (self.env.context.get("install_filename") or "").endswith(SHIPPED_CODES_FILE):
            return
        for diagnosis in self:
            code = diagnosis.code
            if icd10cm.is_billable(code):
                continue
            if icd10cm.is_known(code):
                children = icd10cm.billable_children(code)
                raise ValidationError(
                    self.env._(
                        "%(code)s is a category, not a billable ICD-10-CM code: choose a code "
                        "under it, e.g. %(examples)s.",
                        code=code,
                        examples=", ".join(children[:6]),
                    )
                )
            raise ValidationError(
                self.env._(
                    "“%(code)s” is not an ICD-10-CM code: look it up by code or words (e.g. F41.1, "
                    "“generalized anxiety”).",
                    code=code,
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
                vals["code"] = icd10cm.normalize(vals["code"])
                if not vals.get("name") and icd10cm.is_known(vals["code"]):
                    vals["name"] = icd10cm.description(vals["code"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("code"):
            vals["code"] = icd10cm.normalize(vals["code"])
        return super().write(vals)

    @api.model
    def name_create(self, name):
        """Typing a code the list does not hold yet (e.g. Z63.0) adds it from the code set."""
        code = icd10cm.normalize(name.split()[0] if name.strip() else name)
        known = icd10cm.is_known(code)
        record = self.create({"code": code, "name": icd10cm.description(code) if known else name})
        return record.id, record.display_name
