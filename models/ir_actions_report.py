from odoo import models
from odoo.addons.base.models.ir_actions_report import _wkhtml
from odoo.exceptions import UserError
from odoo.tools.pdf import merge_pdf

# The reports that print clinical content: a chart note (its text) and a superbill (diagnoses
# and services). What they print is in the rendering values' ``docs``: the notes, or the
# attendance lines billed.
THERAPY_LOGGED_REPORTS = {
    "group_therapy.therapy_chart_note_report_document",
    "group_therapy.report_superbill",
    "group_therapy.report_superbill_session",
    "group_therapy.report_superbill_client",
}
THERAPY_CHART_NOTE_REPORT = "group_therapy.therapy_chart_note_report_document"
# Odoo's invoice PDFs: an insurer's invoice names the client, the session and the codes.
THERAPY_INVOICE_REPORTS = {"account.report_invoice", "account.report_invoice_with_payments"}


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _get_rendering_context(self, report, docids, data):
        """Printing a chart note or a superbill goes on the clinical access log, whatever
        the output (PDF, HTML preview) and whichever menu printed it. The records of a 42 CFR
        Part 2 program print only under the client's written consent, with the notice."""
        data = super()._get_rendering_context(report, docids, data)
        data["therapy_letterhead_in_body"] = self._therapy_letterhead_in_body(data)
        if report.report_name in THERAPY_LOGGED_REPORTS:
            docs = data.get("docs")
            consents = {}
            if isinstance(docs, models.BaseModel) and "partner_id" in docs._fields:
                consents = self._therapy_part2_consents(report, docs)
                self.env["therapy.access.log"]._log(
                    docs, "print", detail=report.name, consents=consents
                )
            data["therapy_part2_notice"] = self.env["therapy.part2.consent"]._part2_notice()
            data["therapy_part2_by_doc"] = {doc.id: consent for doc, consent in consents.items()}
            data["therapy_part2_by_client"] = {
                doc.partner_id.id: consent for doc, consent in consents.items()
            }
        elif report.report_name in THERAPY_INVOICE_REPORTS:
            docs = data.get("docs")
            if isinstance(docs, models.BaseModel) and docs._name == "account.move":
                by_move = self._therapy_part2_invoice_consents(docs)
                if by_move:
                    claim_consents = {
                        move.therapy_claim_id: consent for move, consent in by_move.items()
                    }
                    self.env["therapy.access.log"]._log(
                        self.env["therapy.claim"].union(*claim_consents),
                        "print",
                        detail=report.name,
                        consents=claim_consents,
                    )
                    data["therapy_part2_notice"] = self.env["therapy.part2.consent"]._part2_notice()
                data["therapy_part2_by_doc"] = {
                    move.id: consent for move, consent in by_move.items()
                }
        return data

    def _run_wkhtmltopdf(
        self,
        bodies,
        report_ref=False,
        header=None,
        footer=None,
        landscape=False,
        specific_paperformat_args=None,
        set_viewport_size=False,
    ):
        """Debian's wkhtmltopdf (Qt without wkhtmltopdf's patches) converts one document per
        run and refuses more: several records printed at once (a session's superbills, the
        chart notes of a session, a batch of invoices) are converted one run each and the
        PDFs joined, in order, instead of refused."""
        bodies = list(bodies)
        options = {
            "report_ref": report_ref,
            "header": header,
            "footer": footer,
            "landscape": landscape,
            "specific_paperformat_args": specific_paperformat_args,
            "set_viewport_size": set_viewport_size,
        }
        if len(bodies) < 2 or _wkhtml().is_patched_qt:
            return super()._run_wkhtmltopdf(bodies, **options)
        pdfs = []
        for body in bodies:
            pdfs.append(super()._run_wkhtmltopdf([body], **options))
        return merge_pdf(pdfs)

    def _therapy_letterhead_in_body(self, data):
        """Whether the addon's documents print the practice's letterhead in their body
        (``group_therapy.therapy_letterhead``): in a PDF from a wkhtmltopdf without patched Qt
        (Debian's), which drops the external layout's header; never in the HTML view or with
        the patched build, which show that header."""
        return data.get("report_type") == "pdf" and not _wkhtml().is_patched_qt

    def _therapy_part2_invoice_consents(self, moves):
        """{move: consent} for the insurer's invoices of claims of a 42 CFR Part 2 program
        (the client's own invoices are theirs); refused when a consent to the insurer for
        payment is not on file."""
        moves_sudo = moves.sudo().filtered("therapy_claim_id")
        to_insurer = moves_sudo.filtered(
            lambda move: move.partner_id.commercial_partner_id
            == move.therapy_claim_id.payer_id.commercial_partner_id
        )
        if not to_insurer:
            return {}
        consents, missing = self.env["therapy.part2.consent"]._check_disclosure(
            to_insurer.therapy_claim_id,
            "payment",
            lambda claim: claim.payer_id,
            group_of=lambda claim: claim.event_id.therapy_group_id,
        )
        if missing:
            raise UserError(
                self.env._(
                    "Nothing was printed.\n%(reasons)s",
                    reasons="\n".join(f"- {reason}" for reason in dict.fromkeys(missing.values())),
                )
            )
        return {
            move.sudo(False): consents[move.therapy_claim_id]
            for move in to_insurer
            if move.therapy_claim_id in consents
        }

    def _therapy_part2_consents(self, report, docs):
        """{doc: consent} for the printed records of a 42 CFR Part 2 program; refused, naming
        the clients and what is missing, when a consent is not on file.

        A superbill goes to the client's insurer for payment (a self-pay client's, to the
        client: not a disclosure). A chart note goes to whom the
        user says (``therapy_part2_recipient_id`` in the context, for
        ``therapy_part2_purpose``, treatment by default: the Disclose button of a note)."""
        Consent = self.env["therapy.part2.consent"]
        if report.report_name == THERAPY_CHART_NOTE_REPORT:
            context = self.env.context
            recipient = self.env["res.partner"].browse(context.get("therapy_part2_recipient_id"))
            purpose = context.get("therapy_part2_purpose") or "treatment"
            if purpose not in ("treatment", "payment", "operations"):
                purpose = "treatment"
            consents, missing = Consent._check_disclosure(docs, purpose, lambda _note: recipient)
            if missing and not recipient:
                raise UserError(
                    self.env._(
                        "%(clients)s: the chart notes of a 42 CFR Part 2 program leave the "
                        "practice only under the client's written consent. Print them with "
                        "Disclose (42 CFR Part 2) on the note, naming the recipient and the "
                        "purpose.",
                        clients=", ".join(
                            sorted({missing_doc.partner_id.sudo().name for missing_doc in missing})
                        ),
                    )
                )
        else:
            # A self-pay client's superbill is handed to the client: a patient's access to
            # their own records, which Part 2 does not restrict (42 CFR 2.23).
            to_insurer = docs.filtered(lambda line: line._therapy_payer())
            consents, missing = Consent._check_disclosure(
                to_insurer, "payment", lambda line: line._therapy_payer()
            )
        if missing:
            raise UserError(
                self.env._(
                    "Nothing was printed.\n%(reasons)s",
                    reasons="\n".join(f"- {reason}" for reason in dict.fromkeys(missing.values())),
                )
            )
        return consents
