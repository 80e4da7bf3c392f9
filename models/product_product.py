from odoo import api, models

# Order of the attendance code picker: yes-codes first, then no-codes.
CODE_PICKER_RANK = {"cpt": 0, "no_fee": 1, "no_show": 2, "late_cancel": 3}


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def name_search(self, name="", domain=None, operator="ilike", limit=100):
        results = super().name_search(name, domain, operator, limit)
        if not self.env.context.get("therapy_code_picker"):
            return results
        kinds = {
            product.id: product.therapy_code_kind
            for product in self.browse([product_id for product_id, _name in results])
        }
        return sorted(
            results,
            key=lambda pair: CODE_PICKER_RANK.get(kinds.get(pair[0]), len(CODE_PICKER_RANK)),
        )
