from odoo import fields, models


class TherapyChartTemplate(models.Model):
    _name = "therapy.chart.template"
    _inherit = ["therapy.input.mixin"]
    _description = "Chart Note Template"
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Empty: offered to every company of the database.",
    )
    template_type = fields.Selection(
        selection=[("custom", "Custom"), ("single_client", "Single client (built-in)")],
        string="Kind",
        required=True,
        default="custom",
        help="Only custom templates may chart a group session; built-in single-client "
        "templates are for individual appointments.",
    )
    body = fields.Html(
        string="Guidance",
        sanitize_style=True,
        help="Shown to the provider beside the notes while charting (what to cover, e.g. the "
        "risk assessment). Never part of a chart note: only what the provider writes is signed.",
    )
    require_diagnosis = fields.Boolean(
        string="Diagnosis Required",
        help="Notes written with this template are signed only for clients who have a "
        "diagnosis code (e.g. notes that support an insurance claim).",
    )
    section_ids = fields.One2many(
        "therapy.chart.template.section",
        "template_id",
        string="Sections",
        copy=True,
        help="Sections the provider fills in for the group when charting; required ones must "
        "be filled before the notes are signed.",
    )


class TherapyChartTemplateSection(models.Model):
    _name = "therapy.chart.template.section"
    _inherit = ["therapy.input.mixin"]
    _description = "Chart Note Template Section"
    _order = "sequence, id"

    template_id = fields.Many2one(
        "therapy.chart.template", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Section", required=True, translate=True)
    hint = fields.Char(
        string="Guidance",
        translate=True,
        help="Shown beside the section while charting; never part of the chart note.",
    )
    required = fields.Boolean(help="The notes are signed only once this section is filled.")
