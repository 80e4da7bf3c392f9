from odoo import api, fields, models


class ReportClaimLines(models.AbstractModel):
    """Claim lines: everything a CMS-1500 box 24 needs, one row per code billed.

    The clearinghouse export (CSV, JSON) writes them and the superbill prints them; fees are never
    claim lines. The caller checks that the user may read the clients' clinical fields: the rows
    read the diagnoses, the payer and the rendering provider's NPI as superuser."""

    _name = "report.group_therapy.claim_lines"
    _description = "Claim Lines"

    @api.model
    def _get_report_values(self, docids, data=None):
        services = self.env["therapy.attendance"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "therapy.attendance",
            "docs": services,
            "rows": self._get_rows(services),
        }

    @api.model
    def _get_rows(self, lines):
        """The rows of the attended CPT services among ``lines``, by session and client."""
        rows = []
        services = lines.filtered(
            lambda line: line.state == "attended" and line.product_id.therapy_code_kind == "cpt"
        )
        for line in services.sorted(lambda line: (line.event_start, line.partner_name)):
            partner_sudo = line.partner_id.sudo()
            provider_sudo = line.rendering_provider_id.sudo()
            for product in line.product_id | line.addon_product_ids:
                rows.append(
                    {
                        "client": line.partner_id.name,
                        "client_ref": line.partner_id.ref or "",
                        "payer": partner_sudo.therapy_payer_id.name or "",
                        "date_of_service": fields.Date.to_string(line.session_date),
                        "place_of_service": line.place_of_service,
                        "cpt": product.therapy_code,
                        "modifiers": line.modifiers or "",
                        "units": line.units,
                        "charge": line._claim_charge(product),
                        "diagnoses": ",".join(partner_sudo.therapy_diagnosis_ids.mapped("code")),
                        "diagnosis_pointers": "".join(line._diagnosis_pointer_letters()),
                        "rendering_provider": provider_sudo.name,
                        "rendering_npi": provider_sudo.therapy_npi or "",
                        "group": line.group_id.code,
                        "invoice": line.invoice_id.name or "",
                    }
                )
        return rows
