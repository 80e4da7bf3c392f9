import base64
import csv
import io
import json
import re

from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..models.ir_attachment import X12_MIMETYPE
from . import x12

CLAIM_COLUMNS = [
    "client",
    "client_ref",
    "payer",
    "date_of_service",
    "place_of_service",
    "cpt",
    "modifiers",
    "units",
    "charge",
    "diagnoses",
    "diagnosis_pointers",
    "rendering_provider",
    "rendering_npi",
    "group",
    "invoice",
]
# A spreadsheet opening the CSV reads a cell that starts with one of these as a formula
# (OWASP, "CSV Injection"): such a cell is written with a leading single quote, as text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """The value as a spreadsheet shows it: text that would start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return f"'{value}"
    return value


class TherapyClaimExportWizard(models.TransientModel):
    _name = "therapy.claim.export.wizard"
    _inherit = ["therapy.input.mixin"]
    _description = "Claim Lines Export"

    def _default_date_from(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    def _default_date_to(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(days=1)

    date_from = fields.Date(required=True, default=lambda self: self._default_date_from())
    date_to = fields.Date(required=True, default=lambda self: self._default_date_to())
    group_ids = fields.Many2many("therapy.group", string="Groups", help="Empty: every group.")
    file_format = fields.Selection(
        selection=[("csv", "CSV"), ("json", "JSON"), ("x12_837p", "837P (electronic claims)")],
        required=True,
        default="csv",
        help="837P: the insured clients' claims to submit in the period, one interchange per "
        "insurer, checked before download; the claims are then marked submitted.",
    )
    data = fields.Binary(string="File", readonly=True, attachment=False)
    left_out = fields.Text(
        readonly=True,
        help="The services of the period that are not in the file, and why (e.g. the client's "
        "chart note is not signed yet).",
    )
    filename = fields.Char(readonly=True)
    part2_notice = fields.Text(
        string="42 CFR Part 2 Notice",
        readonly=True,
        help="The file discloses records of a 42 CFR Part 2 program, each under the client's "
        "written consent: this notice (42 CFR 2.32) goes to the recipient with it.",
    )

    def action_export(self):
        """The claim lines of the period for a clearinghouse; fees are never on them."""
        self.ensure_one()
        if self.date_to < self.date_from:
            raise UserError(
                self.env._("The period ends before it starts: set To on or after From.")
            )
        if self.file_format == "x12_837p":
            return self._action_export_837p()
        domain = [
            ("state", "=", "attended"),
            ("product_id.therapy_code_kind", "=", "cpt"),
            ("session_date", ">=", self.date_from),
            ("session_date", "<=", self.date_to),
        ]
        if self.group_ids:
            domain.append(("group_id", "in", self.group_ids.ids))
        services = self.env["therapy.attendance"].search(domain)
        # Claim lines carry the clients' diagnoses and payer, read as superuser.
        services.partner_id._therapy_check_clinical_access()
        left_out_reasons = services._claim_blockers()
        # Records of a 42 CFR Part 2 program go to the client's payer only under their written
        # consent: the lines without one are left out, as unsigned ones are.
        consents, part2_missing = self.env["therapy.part2.consent"]._check_disclosure(
            services, "payment", lambda line: line._therapy_payer()
        )
        for line, reason in part2_missing.items():
            left_out_reasons.setdefault(line, reason)
        exported = services.filtered(lambda line: line not in left_out_reasons)
        consents = {line: consent for line, consent in consents.items() if line in exported}
        part2_notice = self._part2_notice(consents.values())
        rows = self.env["report.group_therapy.claim_lines"]._get_report_values(exported.ids)["rows"]
        left_out = [
            {
                "client": line.partner_id.name,
                "date_of_service": fields.Date.to_string(line.session_date),
                "cpt": line.product_id.therapy_code,
                "group": line.group_id.code,
                "reason": reason,
            }
            for line, reason in left_out_reasons.items()
        ]
        left_out_text = "\n".join(
            f"{item['date_of_service']} {item['client']} ({item['cpt']}, {item['group']}): "
            f"{item['reason']}"
            for item in left_out
        )
        if not rows:
            raise UserError(
                self.env._(
                    "No service to claim between %(start)s and %(end)s.%(left_out)s",
                    start=self.date_from,
                    end=self.date_to,
                    left_out=(
                        "\n"
                        + self.env._("Left out:")
                        + "\n"
                        + left_out_text
                        + "\n"
                        + self.env._(
                            "Once what each line says is resolved (the chart note signed, a "
                            "consent recorded), export the period again."
                        )
                        if left_out
                        else " "
                        + self.env._(
                            "No client attended a session with a CPT code in that period: "
                            "choose another period, or record the attendance first."
                        )
                    ),
                )
            )
        if self.file_format == "json":
            document = {"claim_lines": rows, "left_out": left_out}
            if part2_notice:
                document["part2_notice"] = part2_notice
            content = json.dumps(document, indent=2).encode()
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=CLAIM_COLUMNS)
            writer.writeheader()
            # Names, references and codes come from users and clients: never formulas.
            writer.writerows(
                {column: spreadsheet_cell(value) for column, value in row.items()} for row in rows
            )
            content = buffer.getvalue().encode()
        self.write(
            {
                "data": base64.b64encode(content),
                "filename": f"claim_lines_{self.date_from}_{self.date_to}.{self.file_format}",
                "left_out": left_out_text or False,
                "part2_notice": part2_notice or False,
            }
        )
        self.env["therapy.access.log"]._log(
            exported, "export", detail=self.filename, consents=consents
        )
        return self._action_reopen()

    def _part2_notice(self, consents):
        """The 42 CFR 2.32 notice and the scope of each consent used, for a disclosure of
        records of a Part 2 program; empty when the file has none."""
        consents = self.env["therapy.part2.consent"].union(*consents)
        if not consents:
            return ""
        return "\n\n".join(
            [consents._part2_notice(), *(consent._scope_label() for consent in consents)]
        )

    def _action_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _action_export_837p(self):
        """One 837P interchange per insurer, checked by pyx12 before it is offered; the claims
        it carries are then submitted, with the file attached."""
        domain = [
            ("state", "=", "to_submit"),
            ("date_of_service", ">=", self.date_from),
            ("date_of_service", "<=", self.date_to),
        ]
        if self.group_ids:
            domain.append(("event_id.therapy_group_id", "in", self.group_ids.ids))
        claims = self.env["therapy.claim"].search(domain, order="payer_id, date_of_service, id")
        if not claims:
            raise UserError(
                self.env._(
                    "No insurance claim to submit between %(start)s and %(end)s. Claims are "
                    "made when the sessions of insured clients are invoiced.",
                    start=self.date_from,
                    end=self.date_to,
                )
            )
        # The file carries the clients' diagnoses, birth dates and coverage, read as superuser.
        claims.partner_id._therapy_check_clinical_access()
        # Claims of a 42 CFR Part 2 program go to the insurer only under the client's written
        # consent: those without one stay to submit, with the reason, and the others are sent.
        consents, part2_missing = self.env["therapy.part2.consent"]._check_disclosure(
            claims,
            "payment",
            lambda claim: claim.payer_id,
            group_of=lambda claim: claim.event_id.therapy_group_id,
        )
        left_out_text = "\n".join(
            f"{fields.Date.to_string(claim.date_of_service)} {claim.name}: {reason}"
            for claim, reason in part2_missing.items()
        )
        claims = claims.filtered(lambda claim: claim not in part2_missing)
        if not claims:
            raise UserError(
                self.env._(
                    "No claim can be sent:\n%(reasons)s",
                    reasons="\n".join(f"- {reason}" for reason in part2_missing.values()),
                )
            )
        problems = claims._x12_problems()
        if problems:
            raise UserError(
                self.env._(
                    "The claims cannot be sent yet. Fix these and export again:\n%(problems)s",
                    problems="\n".join(f"- {problem}" for problem in problems),
                )
            )
        company = self.env.company
        now = fields.Datetime.now()
        interchanges, findings = [], []
        for payer, payer_claims in claims.grouped("payer_id").items():
            control = int(self.env["ir.sequence"].next_by_code("therapy.x12.interchange") or 1)
            billing = company.partner_id
            header = {
                "created": now,
                "control_number": control,
                "batch_ref": f"GT{control}",
                "sender_id": company.therapy_npi,
                "receiver_id": payer.therapy_payer_code,
                "billing": {
                    "name": company.name,
                    "contact": self.env.user.name,
                    "phone": re.sub(r"\D", "", company.phone or billing.phone or "")[-10:]
                    or "0000000000",
                    "taxonomy": company.therapy_taxonomy_code,
                    "npi": company.therapy_npi,
                    "street": " ".join(filter(None, [company.street, company.street2])),
                    "city": company.city,
                    "state": company.state_id.code,
                    "zip": re.sub(r"\D", "", company.zip or ""),
                    "tin": re.sub(r"\D", "", company.vat or ""),
                },
                "payer": {"name": payer.name, "line_rendering": payer.therapy_line_rendering},
            }
            values = [claim._x12_claim_values() for claim in payer_claims]
            content, owners = x12.build_837p(header, values)
            lines = content.split("\n")
            for number, message in x12.validate(content):
                # `number` counts the file's segments: ISA and GS come before the transaction.
                owner = owners[number - 3] if 3 <= number < len(owners) + 3 else None
                segment_id = lines[number - 1].split("*")[0] if 0 < number <= len(lines) else ""
                if owner is None:
                    findings.append(
                        self.env._(
                            "File for %(payer)s, segment %(segment)s: %(message)s",
                            payer=payer.name,
                            segment=segment_id,
                            message=message,
                        )
                    )
                else:
                    claim = payer_claims[owner]
                    findings.append(
                        self.env._(
                            "Client %(client)s, claim %(claim)s: %(message)s",
                            client=claim.partner_id.name,
                            claim=claim.name,
                            message=message,
                        )
                    )
            interchanges.append((payer, payer_claims, control, content))
        if findings:
            raise UserError(
                self.env._(
                    "The claim file does not pass the 837P checks, so it was not made. Fix "
                    "these and export again:\n%(findings)s",
                    findings="\n".join(f"- {finding}" for finding in findings),
                )
            )
        for payer, payer_claims, control, content in interchanges:
            attachment = self.env["ir.attachment"].create(
                {
                    "name": f"837P_{payer.therapy_payer_code}_{control:09d}.x12",
                    "raw": content.encode(),
                    # not text/plain: Odoo would keep the file's text in index_content
                    "mimetype": X12_MIMETYPE,
                    "res_model": "therapy.claim",
                    "res_id": payer_claims[:1].id,
                }
            )
            sent = {"submitted_on": now, "export_attachment_id": attachment.id}
            # A void, once sent, closes the claim: its service may be billed again.
            voids = payer_claims.filtered(lambda claim: claim.frequency_code == "8")
            (payer_claims - voids)._therapy_server_write({**sent, "state": "submitted"})
            voids._therapy_server_write({**sent, "state": "voided"})
        self.write(
            {
                "data": base64.b64encode(
                    "".join(content for *_rest, content in interchanges).encode()
                ),
                "filename": f"claims_837p_{self.date_from}_{self.date_to}.x12",
                "left_out": left_out_text or False,
                # An 837P has no segment for the notice: the wizard shows it with the file, for
                # the biller to send along with it, and each claim's consent is on the log.
                "part2_notice": self._part2_notice(consents.values()) or False,
            }
        )
        self.env["therapy.access.log"]._log(
            claims, "export", detail=self.filename, consents=consents
        )
        return self._action_reopen()
