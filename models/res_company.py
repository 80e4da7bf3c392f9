from odoo import api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _therapy_install_payment_journals(self):
        """At install: the payment journals of every company that already has its accounts."""
        self.search([("chart_template", "!=", False)])._therapy_ensure_payment_journals()

    def _therapy_ensure_payment_journals(self):
        """Cash, card and check journals, so the desk takes any of them (Odoo's generic chart of
        accounts ships a bank journal only). Created only where the company has none."""
        Journal = self.env["account.journal"].sudo()
        payment_journals = [
            ("cash", "CSH", self.env._("Cash")),
            ("bank", "CARD", self.env._("Card")),
            ("bank", "CHK", self.env._("Checks")),
        ]
        for company in self.filtered("chart_template"):
            existing = Journal.with_context(active_test=False).search(
                [("company_id", "=", company.id)]
            )
            vals_list = [
                {
                    "name": name,
                    "code": code,
                    "type": journal_type,
                    "company_id": company.id,
                    "show_on_dashboard": True,
                }
                for journal_type, code, name in payment_journals
                if code not in existing.mapped("code")
                and not (journal_type == "cash" and "cash" in existing.mapped("type"))
            ]
            Journal.create(vals_list)
