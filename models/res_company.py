import re

from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumValidationError

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# A Health Care Provider Taxonomy code: 3 digits, 6 letters/digits, a final X (101YM0800X).
TAXONOMY_CODE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")
# CMS: the NPI check digit is the Luhn digit of the number prefixed with 80840 (the card issuer
# prefix of the health industry), so "80840" + NPI passes the Luhn check.
NPI_LUHN_PREFIX = "80840"


def is_valid_npi(npi):
    """Ten digits, the last one the Luhn check digit over 80840 + the first nine."""
    if not npi or len(npi) != 10 or not npi.isdigit():
        return False
    try:
        luhn.validate(NPI_LUHN_PREFIX + npi)
    except StdnumValidationError:
        return False
    return True


class ResCompany(models.Model):
    _inherit = "res.company"

    # The practice's billing NPI (type 2), a name integrations rely on: the one field claims,
    # superbills and the 835 payee check all read (its check digit is validated below).
    therapy_npi = fields.Char(
        string="Billing NPI",
        help="The practice's organization NPI (type 2), the billing provider on claims.",
    )
    therapy_taxonomy_code = fields.Char(
        string="Taxonomy Code",
        help="The practice's Health Care Provider Taxonomy code for claims, e.g. 101YM0800X "
        "(mental health counselor) or 103T00000X (psychologist).",
    )

    therapy_writeoff_account_id = fields.Many2one(
        "account.account",
        string="Contractual Adjustments Account",
        check_company=True,
        help="Where the insurers' contractual adjustments (CO) of imported remittances are "
        "written off.",
    )
    therapy_plb_account_id = fields.Many2one(
        "account.account",
        string="Provider Adjustments Account",
        check_company=True,
        help="Where the provider-level adjustments (PLB) of imported remittances are booked: "
        "amounts the insurer withholds from its payment (e.g. an overpayment recovery) or adds "
        "to it (interest).",
    )
    therapy_plb_account_ids = fields.One2many(
        "therapy.plb.account",
        "company_id",
        string="Provider Adjustment Accounts per Reason",
        help="An account for some provider-level adjustment reasons (e.g. WO overpayment "
        "recovery, L6 interest); the other reasons go to the Provider Adjustments Account.",
    )
    therapy_era_journal_id = fields.Many2one(
        "account.journal",
        string="Insurance Payments Journal",
        check_company=True,
        domain=[("type", "=", "bank")],
        help="The bank journal of the insurers' payments from remittances. Empty: the first bank "
        "journal.",
    )

    therapy_no_show_fee_amount = fields.Monetary(
        string="No-show Fee Policy Amount",
        currency_field="currency_id",
        help="The one no-show and late-cancel fee the practice charges every client. Medicare "
        "allows such fees only under one policy for all patients: a different fee for a "
        "Medicare client is flagged.",
    )
    therapy_sign_in_names = fields.Selection(
        selection=[("initials", "Initials"), ("names", "Full names")],
        string="Sign-in Sheet Shows",
        default="initials",
        required=True,
        help="How clients are listed on a session's printed sign-in sheet: initials keep "
        "members from reading each other's full names.",
    )
    therapy_part2 = fields.Boolean(
        string="42 CFR Part 2 Program",
        help="The whole practice is a substance use disorder program under 42 CFR Part 2: its "
        "clients' records leave it (chart notes, superbills, claims) only with their written "
        "consent. A single group can be marked instead.",
    )

    @api.constrains("therapy_npi")
    def _check_therapy_npi(self):
        """The practice's NPI passes CMS's check digit."""
        for company in self.filtered("therapy_npi"):
            if not is_valid_npi(company.therapy_npi):
                raise ValidationError(
                    self.env._(
                        "The billing NPI “%(npi)s” of %(company)s is not valid: an NPI has 10 "
                        "digits and its last digit checks the others. Copy it again from the NPI "
                        "registry (NPPES).",
                        npi=company.therapy_npi,
                        company=company.name,
                    )
                )

    @api.constrains("therapy_taxonomy_code")
    def _check_therapy_taxonomy_code(self):
        """A taxonomy code as the NUCC list writes it."""
        for company in self.filtered("therapy_taxonomy_code"):
            if not TAXONOMY_CODE.match(company.therapy_taxonomy_code):
                raise ValidationError(
                    self.env._(
                        "“%(code)s” is not a taxonomy code: it has 10 characters and ends in X, "
                        "like 101YM0800X.",
                        code=company.therapy_taxonomy_code,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # Each practice's chain of signed chart notes exists from the start: signing only
        # locks it (therapy.chart.note.chain).
        self.env["therapy.chart.note.chain"].sudo()._therapy_server_create(
            [{"company_id": company.id} for company in companies]
        )
        return companies

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
