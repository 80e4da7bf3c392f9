from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import GroupTherapyCommon


@tagged("post_install", "-at_install")
class TestServiceCodes(GroupTherapyCommon):
    def test_shipped_codes(self):
        """The CPT and system codes ship as service products with sensible prices."""
        self.assertEqual(self.cpt_90853.therapy_code, "90853")
        self.assertEqual(self.cpt_90853.therapy_code_kind, "cpt")
        self.assertEqual(self.cpt_90849.therapy_code, "90849")
        self.assertTrue(self.cpt_90785.therapy_addon_only)
        for product, kind in (
            (self.no_show, "no_show"),
            (self.late_cancel, "late_cancel"),
            (self.no_fee, "no_fee"),
        ):
            self.assertEqual(product.therapy_code_kind, kind)
            self.assertFalse(product.therapy_code, "system codes carry no CPT number")
            self.assertEqual(product.type, "service")
        self.assertGreater(self.no_show.list_price, 0)
        self.assertGreater(self.late_cancel.list_price, 0)
        self.assertEqual(self.no_fee.list_price, 0)

    def test_custom_cpt_code(self):
        """A practice adds its own CPT code as an ordinary product; the code is normalised."""
        product = self.env["product.product"].create(
            {
                "name": "Group therapy, extended",
                "type": "service",
                "therapy_code_kind": "cpt",
                "therapy_code": " 0591t ",
            }
        )
        self.assertEqual(product.therapy_code, "0591T")

    def test_code_unique_per_company(self):
        with self.assertRefused(ValidationError, "90853 is already used"):
            self.env["product.product"].create(
                {
                    "name": "Duplicate group code",
                    "therapy_code_kind": "cpt",
                    "therapy_code": "90853",
                }
            )
        other_company = self.env["res.company"].create({"name": "Second Practice"})
        mine = self.env["product.product"].create(
            {
                "name": "Custom A",
                "therapy_code_kind": "cpt",
                "therapy_code": "99999",
                "company_id": self.company.id,
            }
        )
        theirs = self.env["product.product"].create(
            {
                "name": "Custom B",
                "therapy_code_kind": "cpt",
                "therapy_code": "99999",
                "company_id": other_company.id,
            }
        )
        self.assertEqual((mine | theirs).mapped("therapy_code"), ["99999", "99999"])

    def test_system_code_refuses_cpt_number(self):
        with self.assertRefused(ValidationError, "cannot carry the CPT number 90853"):
            self.no_show.therapy_code = "90853"
        self.no_show.invalidate_recordset()
        self.assertFalse(self.no_show.therapy_code, "the refused value was not kept")
        with self.assertRefused(ValidationError, "cannot carry the CPT number G0410"):
            self.env["product.product"].create(
                {
                    "name": "Late fee",
                    "therapy_code_kind": "late_cancel",
                    "therapy_code": "G0410",
                }
            )

    def test_cpt_needs_code_and_addon_needs_cpt(self):
        with self.assertRefused(ValidationError, "enter its Service Code"):
            self.env["product.product"].create({"name": "No code", "therapy_code_kind": "cpt"})
        with self.assertRefused(ValidationError, "Only CPT services can be add-on codes"):
            self.no_fee.therapy_addon_only = True
