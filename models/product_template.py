import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# A CPT (or HCPCS level II) number: 4 digits and a digit or letter (90853, 0591T), or a letter
# and 4 digits (G0410). System codes are fees, never services, so they may not carry one.
CPT_NUMBER = re.compile(r"^(\d{4}[0-9A-Z]|[A-Z]\d{4})$")

SYSTEM_CODE_KINDS = ("no_show", "late_cancel", "no_fee")


class ProductTemplate(models.Model):
    _inherit = "product.template"

    therapy_code = fields.Char(
        string="Service Code",
        copy=False,
        index="btree_not_null",
        help="The code printed on invoices and claims, e.g. 90853. System codes (no-show, late "
        "cancel, no fee) are fees, not services, and carry no CPT number.",
    )
    therapy_code_kind = fields.Selection(
        selection=[
            ("cpt", "CPT service"),
            ("no_show", "No-show"),
            ("late_cancel", "Late cancel"),
            ("no_fee", "No fee"),
        ],
        string="Group Therapy Code",
        help="CPT service: billed to clients who attended. No-show and late cancel: fees for "
        "clients who did not attend. No fee: nothing is billed.",
    )
    therapy_addon_only = fields.Boolean(
        string="Add-on Code Only",
        help="Never billed alone (e.g. 90785 interactive complexity): only as an extra code "
        "on top of a client's primary code.",
    )

    therapy_fee_waived = fields.Boolean(
        string="Waive This Fee",
        help="No-show / late-cancel code that is recorded but never charged.",
    )

    @api.constrains("therapy_code", "therapy_code_kind", "therapy_addon_only")
    def _check_therapy_code_kind(self):
        """A CPT service needs its code; a system code carries no CPT number."""
        for product in self.filtered("therapy_code_kind"):
            code = (product.therapy_code or "").strip()
            if product.therapy_code_kind == "cpt" and not code:
                raise ValidationError(
                    self.env._(
                        "“%(product)s” is a CPT service: enter its Service Code (e.g. 90853).",
                        product=product.display_name,
                    )
                )
            if product.therapy_code_kind in SYSTEM_CODE_KINDS and CPT_NUMBER.match(code.upper()):
                raise ValidationError(
                    self.env._(
                        "“%(product)s” is a system code (%(kind)s): no-show, late-cancel and "
                        "no-fee codes are fees, not services, and cannot carry the CPT number "
                        "%(code)s. Clear its Service Code, or make it a CPT service.",
                        product=product.display_name,
                        kind=dict(
                            product._fields["therapy_code_kind"]._description_selection(self.env)
                        )[product.therapy_code_kind],
                        code=code,
                    )
                )
            if product.therapy_addon_only and product.therapy_code_kind != "cpt":
                raise ValidationError(
                    self.env._(
                        "Only CPT services can be add-on codes: “%(product)s” is not one.",
                        product=product.display_name,
                    )
                )

    @api.constrains("therapy_code", "company_id")
    def _check_therapy_code_unique(self):
        """One product per service code in a company (shared products count for every company)."""
        coded = self.filtered("therapy_code")
        if not coded:
            return
        # Products of other companies are hidden by record rules; uniqueness must see them all.
        same_codes_sudo = (
            self.sudo()
            .with_context(active_test=False)
            .search([("therapy_code", "in", coded.mapped("therapy_code"))])
        )
        for product in coded:
            clash = same_codes_sudo.filtered(
                lambda other, product=product: other.id != product.id
                and other.therapy_code == product.therapy_code
                and (
                    not other.company_id
                    or not product.company_id
                    or other.company_id == product.company_id
                )
            )
            if clash:
                raise ValidationError(
                    self.env._(
                        "The service code %(code)s is already used by “%(other)s”. Each code "
                        "can be used by one product per company: edit that product instead.",
                        code=product.therapy_code,
                        other=clash[0].display_name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("therapy_code"):
                vals["therapy_code"] = vals["therapy_code"].strip().upper()
                # The code as internal reference shows it wherever Odoo names the product,
                # invoice lines included: "[90853] Group psychotherapy".
                vals.setdefault("default_code", vals["therapy_code"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("therapy_code"):
            vals["therapy_code"] = vals["therapy_code"].strip().upper()
        return super().write(vals)
