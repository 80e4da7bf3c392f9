from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """A company that gets its chart of accounts also gets cash, card and check journals."""
        result = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._therapy_ensure_payment_journals()
        return result
