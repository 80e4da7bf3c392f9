from odoo import api, fields, models
from odoo.exceptions import ValidationError

MAX_DIAGNOSES = 12  # CMS-1500 box 21 (A-L); the 837P's HI segment holds as many
POINTER_LETTERS = "ABCDEFGHIJKL"


class TherapyClientDiagnosis(models.Model):
    _name = "therapy.client.diagnosis"
    _inherit = ["therapy.input.mixin", "therapy.readable.target.mixin"]
    _description = "Client Diagnosis"
    _therapy_readable_target_fields = ("partner_id",)
    _order = "partner_id, sequence, id"

    partner_id = fields.Many2one(
        "res.partner", string="Client", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    # cascade, as the former many2many did: uninstalling drops the shipped codes first.
    diagnosis_id = fields.Many2one("therapy.diagnosis", required=True, ondelete="cascade")
    code = fields.Char(related="diagnosis_id.code")
    pointer = fields.Char(
        compute="_compute_pointer",
        help="The letter claim lines use to point at this diagnosis (A = primary).",
    )

    _partner_diagnosis_uniq = models.Constraint(
        "UNIQUE(partner_id, diagnosis_id)", "A client has each diagnosis once."
    )

    @api.depends("partner_id.therapy_diagnosis_line_ids.sequence")
    def _compute_pointer(self):
        """A for the first (primary) diagnosis of the client, B for the second, and so on."""
        for line in self:
            ordered = line.partner_id.therapy_diagnosis_line_ids.sorted(
                lambda other: (other.sequence, other._origin.id or 0)
            )
            position = list(ordered).index(line) if line in ordered else -1
            line.pointer = POINTER_LETTERS[position] if 0 <= position < MAX_DIAGNOSES else False

    @api.constrains("partner_id")
    def _check_at_most_twelve(self):
        """A claim carries at most 12 diagnoses."""
        for partner in self.partner_id:
            if len(partner.therapy_diagnosis_line_ids) > MAX_DIAGNOSES:
                raise ValidationError(
                    self.env._(
                        "%(client)s has %(count)s diagnoses; a claim carries at most 12. Remove "
                        "the ones no longer treated.",
                        client=partner.display_name,
                        count=len(partner.therapy_diagnosis_line_ids),
                    )
                )
