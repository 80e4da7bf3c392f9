from odoo import fields, models


class SurveyQuestion(models.Model):
    _inherit = "survey.question"

    therapy_item = fields.Integer(
        string="Instrument Item",
        help="The item's number in a clinical instrument (PHQ-9 item 9 asks about self-harm); "
        "0 for a question the instrument does not score.",
    )
