import base64
import binascii
from collections import defaultdict
from datetime import datetime

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from ..models.ir_attachment import X12_MIMETYPE
from . import x12

# Adjustment groups written off to the contractual adjustment account; PR moves to the client.
WRITE_OFF_GROUPS = ("CO", "OA", "PI")
PROCESSED = ("1", "2", "3", "19", "20", "21")
DENIED = "4"
# The insurer takes back what it paid on the claim (usually followed by the claim again,
# adjudicated anew, in the same remittance).
REVERSAL = "22"


class TherapyEraImportWizard(models.TransientModel):
    _name = "therapy.era.import.wizard"
    _inherit = ["therapy.input.mixin"]
    _description = "Import an Insurance Remittance (835)"

    data = fields.Binary(string="835 File", required=True, attachment=False)
    filename = fields.Char()
    result = fields.Text(readonly=True)
    era_id = fields.Many2one("therapy.era", string="Remittance", readonly=True)

    def action_import(self):
        """Post the remittance through Odoo Accounting, or refuse it whole, saying why."""
        self.ensure_one()
        content = self._decoded()
        findings = x12.validate(content)
        if findings:
            raise UserError(
                self.env._(
                    "This is not a valid 835 remittance file, nothing was posted:\n%(findings)s",
                    findings="\n".join(
                        self.env._("- segment %(number)s: %(message)s", number=n, message=m)
                        for n, m in findings[:20]
                    ),
                )
            )
        remittance = x12.parse_835(content)
        if remittance["transaction"] != "835":
            raise UserError(
                self.env._("This file is no 835 remittance (it holds no 835 transaction).")
            )
        company = self.env.company
        payer = self._find_payer(remittance)
        trace = remittance["payment"].get("trace") or ""
        already = self.env["therapy.era"].search(
            [
                ("company_id", "=", company.id),
                ("payer_id", "=", payer.id),
                ("trace_number", "=", trace),
            ],
            limit=1,
        )
        if already:
            self.write(
                {
                    "era_id": already.id,
                    "result": self.env._(
                        "This remittance (%(trace)s from %(payer)s) was already posted: nothing "
                        "changed.",
                        trace=trace,
                        payer=payer.name,
                    ),
                }
            )
            return self._action_reopen()
        claims = self._check(remittance, payer, company)
        era = self._post(remittance, payer, company, claims, content)
        self.write(
            {
                "era_id": era.id,
                "result": self.env._(
                    "Posted %(count)s claims from %(payer)s: %(amount)s paid.",
                    count=len(era.line_ids),
                    payer=payer.name,
                    amount=era.amount,
                ),
            }
        )
        return self._action_reopen()

    def _action_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _decoded(self):
        try:
            return base64.b64decode(self.data).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError) as error:
            raise UserError(self.env._("The file could not be read: upload the 835 file.")) from (
                error
            )

    def _find_payer(self, remittance):
        """The insurer who sent the remittance, by payer ID, or by the claims it names."""
        code = remittance["payer"].get("code")
        Partner = self.env["res.partner"]
        payer = Partner.search([("therapy_payer_code", "=", code)], limit=1) if code else Partner
        if not payer:
            claims = self.env["therapy.claim"].search(
                [("name", "in", [claim["ref"] for claim in remittance["claims"]])]
            )
            payer = claims.payer_id[:1]
        if not payer:
            raise UserError(
                self.env._(
                    "The remittance comes from %(payer)s (payer ID %(code)s), which is no insurer "
                    "of this practice, and names no claim of ours: nothing was posted.",
                    payer=remittance["payer"].get("name") or "?",
                    code=code or "?",
                )
            )
        return payer

    def _check(self, remittance, payer, company):
        """Every reason to refuse the file, line by line, before anything is posted."""
        problems = []
        payment = remittance["payment"]
        npi = company.therapy_npi
        payee_npi = remittance["payee"].get("npi")
        if payee_npi and payee_npi != npi:
            problems.append(
                self.env._(
                    "The remittance is for the provider with NPI %(npi)s (%(name)s), not for "
                    "%(company)s.",
                    npi=payee_npi,
                    name=remittance["payee"].get("name"),
                    company=company.name,
                )
            )
        provider_adjustments = round(remittance["provider_adjustments"], 2)
        unbooked = [
            reason
            for reason, _reference, _money in remittance["provider_adjustment_lines"]
            if not self._plb_account(company, reason)
        ]
        if unbooked:
            problems.append(
                self.env._(
                    "Set the Provider Adjustments account on the company %(company)s first, or "
                    "an account for reason %(reasons)s: the remittance has provider-level "
                    "adjustments (PLB) of %(amount)s.",
                    company=company.name,
                    reasons=", ".join(
                        x12.provider_adjustment_in_words(reason, "")
                        for reason in dict.fromkeys(unbooked)
                    ),
                    amount=provider_adjustments,
                )
            )
        if provider_adjustments and not self._general_journal(company):
            problems.append(
                self.env._(
                    "Create a miscellaneous journal first: the provider-level adjustments are "
                    "booked in it."
                )
            )
        paid_total = round(sum(claim["paid"] or 0.0 for claim in remittance["claims"]), 2)
        if float_compare(
            payment.get("amount") or 0.0, paid_total - provider_adjustments, precision_digits=2
        ):
            problems.append(
                self.env._(
                    "The remittance does not balance: the payment is %(payment)s but the claims "
                    "add up to %(claims)s, less %(adjustments)s of provider adjustments.",
                    payment=payment.get("amount"),
                    claims=paid_total,
                    adjustments=provider_adjustments,
                )
                if provider_adjustments
                else self.env._(
                    "The remittance does not balance: the payment is %(payment)s but the claims "
                    "add up to %(claims)s.",
                    payment=payment.get("amount"),
                    claims=paid_total,
                )
            )
        refs = [claim["ref"] for claim in remittance["claims"]]
        # Each claim's state as the file's entries, in their order, take it (a reversal first
        # makes the claim wait for its payment again).
        states = {}
        claims = {
            claim.name: claim
            for claim in self.env["therapy.claim"].search(
                [("name", "in", refs), ("company_id", "=", company.id)]
            )
        }
        for entry in remittance["claims"]:
            where = self.env._(
                "Claim %(claim)s (segment %(line)s)", claim=entry["ref"], line=entry["line"]
            )
            claim = claims.get(entry["ref"])
            if not claim:
                problems.append(self.env._("%(where)s: no such claim here.", where=where))
                continue
            if claim.payer_id != payer:
                problems.append(
                    self.env._(
                        "%(where)s: the claim was sent to %(other)s, not %(payer)s.",
                        where=where,
                        other=claim.payer_id.name,
                        payer=payer.name,
                    )
                )
            state = states.get(claim, claim.state)
            state_words = dict(claim._fields["state"]._description_selection(self.env))
            if self._answers_void(claim, state):
                # The insurer's answer to the void: checked on its own, posts nothing.
                problems += self._check_void_answer(entry, claim, state, where)
                states[claim] = "voided"
                continue
            if entry["status"] == REVERSAL:
                problems += self._check_reversal(entry, claim, state, where)
                states[claim] = "submitted"
            elif state == "cancelled":
                problems.append(
                    self.env._(
                        "%(where)s: the claim was cancelled before it was ever sent, so "
                        "%(payer)s cannot have it. Check the claim ID with the insurer (a "
                        "service invoiced again is on a new claim, with a new ID).",
                        where=where,
                        payer=payer.name,
                    )
                )
            elif state != "submitted":
                problems.append(
                    self.env._(
                        "%(where)s: the claim is %(state)s, not waiting for a payment.",
                        where=where,
                        state=state_words[state],
                    )
                )
            else:
                states[claim] = "denied" if entry["status"] == DENIED else "paid"
            if entry["status"] not in (*PROCESSED, DENIED, REVERSAL):
                problems.append(self._status_problem(entry, where))
            amount_problems = self._amount_problems(entry, where)
            problems += amount_problems
            if entry["charge"] is None or entry["paid"] is None:
                continue
            if not amount_problems and float_compare(
                -entry["charge"] if entry["status"] == REVERSAL else entry["charge"],
                claim.amount_charge,
                precision_digits=2,
            ):
                problems.append(self._charge_problem(entry, claim, where))
            if claim.primary_claim_id and entry["status"] not in (DENIED, REVERSAL):
                problems += self._check_secondary(entry, claim, where)
            writes_off = any(group in WRITE_OFF_GROUPS for group, *_ in entry["adjustments"])
            if (
                writes_off
                and entry["status"] not in (DENIED, REVERSAL)
                and not company.therapy_writeoff_account_id
            ):
                problems.append(
                    self.env._(
                        "Set the Contractual Adjustments account on the company %(company)s "
                        "first: %(where)s has a contractual adjustment to write off.",
                        company=company.name,
                        where=where,
                    )
                )
        if problems:
            raise UserError(
                self.env._(
                    "The remittance was not posted, nothing changed. Fix these first:\n"
                    "%(problems)s",
                    problems="\n".join(f"- {problem}" for problem in dict.fromkeys(problems)),
                )
            )
        return claims

    def _status_problem(self, entry, where):
        """A remittance line whose claim status is not one the import posts."""
        return self.env._(
            "%(where)s: status %(status)s (%(words)s) is not posted automatically.",
            where=where,
            status=entry["status"],
            words=x12.CLAIM_STATUS.get(entry["status"], "?"),
        )

    def _amount_problems(self, entry, where):
        """A remittance line's amounts unreadable, or not balancing with its adjustments."""
        if entry["charge"] is None or entry["paid"] is None:
            return [self.env._("%(where)s: the amounts are unreadable.", where=where)]
        adjusted = sum(money or 0.0 for _group, _code, money in entry["adjustments"])
        if float_compare(entry["charge"] - entry["paid"], adjusted, precision_digits=2):
            return [
                self.env._(
                    "%(where)s does not balance: charge %(charge)s, paid %(paid)s, "
                    "adjustments %(adjusted)s.",
                    where=where,
                    charge=entry["charge"],
                    paid=entry["paid"],
                    adjusted=round(adjusted, 2),
                )
            ]
        return []

    def _charge_problem(self, entry, claim, where):
        """A remittance line answering for another charge than the claim's."""
        return self.env._(
            "%(where)s: the insurer answers for a charge of %(charge)s, the claim was for "
            "%(ours)s.",
            where=where,
            charge=entry["charge"],
            ours=claim.amount_charge,
        )

    @staticmethod
    def _answers_void(claim, state):
        """Whether a remittance line for ``claim`` (in ``state`` as the file's earlier lines
        left it) answers its void: the claim is voided, or its void waits to be sent (the
        insurer may answer a void the biller also sent through its portal before our 837P
        export did)."""
        return state == "voided" or (state == "to_submit" and claim.frequency_code == "8")

    def _check_void_answer(self, entry, claim, state, where):
        """An insurer answers a void with nothing paid (a reversal, status 22, or the void
        processed or denied with 0 paid): that only confirms it. Voiding credited the claim's
        invoices and a claim is voided only with no remittance on its books, so money on the
        line has nowhere to go: refused, saying what to do."""
        if entry["status"] not in (*PROCESSED, DENIED, REVERSAL):
            return [self._status_problem(entry, where)]
        problems = self._amount_problems(entry, where)
        if entry["charge"] is None or entry["paid"] is None:
            return problems
        # The void quotes the claim's charge; a reversal gives it negative, some insurers 0.
        if not float_is_zero(entry["charge"], precision_digits=2) and float_compare(
            abs(entry["charge"]), claim.amount_charge, precision_digits=2
        ):
            problems.append(self._charge_problem(entry, claim, where))
        waiting = state != "voided"
        if float_compare(entry["paid"], 0.0, precision_digits=2) > 0:
            problems.append(
                self.env._(
                    "%(where)s: %(payer)s pays %(paid)s on a claim whose void waits to be "
                    "sent (its invoices were credited when it was voided): the insurer "
                    "paid the claim before it had the void. Ask %(payer)s for a "
                    "remittance without this payment, or post this one by hand (the "
                    "payment as the insurer's credit, to refund once the void is "
                    "processed); to bill the service after all, send the void, invoice "
                    "the session again and have the insurer pay the new claim.",
                    where=where,
                    payer=claim.payer_id.name,
                    paid=entry["paid"],
                )
                if waiting
                else self.env._(
                    "%(where)s: %(payer)s pays %(paid)s on a claim that is Voided (its "
                    "invoices were credited when it was voided): a voided claim is paid "
                    "nothing. Ask %(payer)s for a remittance without this payment, or post "
                    "this one by hand (the payment as the insurer's credit, to refund); "
                    "to bill the service after all, invoice the session again and have "
                    "the insurer pay the new claim.",
                    where=where,
                    payer=claim.payer_id.name,
                    paid=entry["paid"],
                )
            )
        elif float_compare(entry["paid"], 0.0, precision_digits=2) < 0:
            problems.append(
                self.env._(
                    "%(where)s: %(payer)s takes back %(taken)s on a voided claim, but nothing "
                    "was posted as paid on it (a claim is voided only once its payments are "
                    "reversed). Ask %(payer)s which payment it takes back and for a corrected "
                    "remittance, or post this one by hand.",
                    where=where,
                    payer=claim.payer_id.name,
                    taken=-entry["paid"],
                )
            )
        return problems

    def _check_secondary(self, entry, claim, where):
        """A secondary insurer pays and leaves to the client at most what the primary left."""
        owed = round(claim.invoice_id.amount_total + claim.amount_copay, 2)
        patient = sum(money or 0.0 for group, _code, money in entry["adjustments"] if group == "PR")
        if float_compare((entry["paid"] or 0.0) + patient, owed, precision_digits=2) > 0:
            return [
                self.env._(
                    "%(where)s: as secondary insurer, %(payer)s pays %(paid)s and leaves "
                    "%(patient)s to the client, more than the %(owed)s the primary insurer left "
                    "to pay. Ask the insurer to correct its remittance.",
                    where=where,
                    payer=claim.payer_id.name,
                    paid=entry["paid"],
                    patient=round(patient, 2),
                    owed=owed,
                )
            ]
        return []

    @staticmethod
    def _secondary_write_off(claim, paid, patient):
        """What a secondary insurer neither pays nor leaves to the client, of what the primary
        left: its own contractual adjustment. Its remittance's other adjustments (OA-23, the
        primary's payment and write-off) were never on its invoice."""
        return round(claim.invoice_id.amount_total - paid - (patient - claim.amount_copay), 2)

    def _check_reversal(self, entry, claim, state, where):
        """A reversal takes back exactly what was posted for the claim, and only that."""
        if state not in ("paid", "partial", "denied"):
            return [
                self.env._(
                    "%(where)s reverses a payment, but none was posted for the claim (it is "
                    "%(state)s).",
                    where=where,
                    state=dict(claim._fields["state"]._description_selection(self.env))[state],
                )
            ]
        if claim.secondary_claim_ids:
            return [
                self.env._(
                    "%(where)s reverses a payment whose patient responsibility was already "
                    "claimed from the secondary insurer (claim %(secondary)s): post this "
                    "reversal by hand with the accountant.",
                    where=where,
                    secondary=", ".join(claim.secondary_claim_ids.mapped("name")),
                )
            ]
        posted = claim.amount_paid if state != "denied" else 0.0
        if entry["paid"] is not None and float_compare(-entry["paid"], posted, precision_digits=2):
            return [
                self.env._(
                    "%(where)s: the insurer takes back %(taken)s, but %(paid)s was posted for "
                    "the claim.",
                    where=where,
                    taken=-entry["paid"],
                    paid=posted,
                )
            ]
        return []

    def _post(self, remittance, payer, company, claims, content):
        """Write-offs, patient shares and the insurer's payment, reconciled claim by claim."""
        payment_info = remittance["payment"]
        try:
            payment_date = datetime.strptime(payment_info.get("date") or "", "%Y%m%d").date()
        except ValueError:
            payment_date = fields.Date.context_today(self)
        era = self.env["therapy.era"].create(
            {
                "name": self.env._(
                    "%(payer)s %(trace)s", payer=payer.name, trace=payment_info.get("trace")
                ),
                "payer_id": payer.id,
                "company_id": company.id,
                "trace_number": payment_info.get("trace") or "",
                "payment_date": payment_date,
                "amount": payment_info.get("amount") or 0.0,
            }
        )
        era.attachment_id = self.env["ir.attachment"].create(
            {
                "name": self.filename or f"835_{era.trace_number}.x12",
                "raw": content.encode(),
                # not text/plain: Odoo would keep the file's text in index_content
                "mimetype": X12_MIMETYPE,
                "res_model": "therapy.era",
                "res_id": era.id,
            }
        )
        postings, to_pay = [], self.env["account.move"]
        freed = self.env["account.move.line"]
        line_vals = []
        for entry in remittance["claims"]:
            claim = claims[entry["ref"]]
            by_group = defaultdict(float)
            for group, _code, money in entry["adjustments"]:
                by_group[group] += money or 0.0
            write_off = round(sum(by_group[group] for group in WRITE_OFF_GROUPS), 2)
            patient = round(by_group["PR"], 2)
            if claim.primary_claim_id and entry["status"] not in (DENIED, REVERSAL):
                write_off = self._secondary_write_off(claim, entry["paid"], patient)
            reasons = [
                x12.reason_in_words(g, c) + f" ({m:.2f})" for g, c, m in entry["adjustments"]
            ]
            reasons += [x12.remark_in_words(code) for code in entry["remarks"]]
            status = x12.CLAIM_STATUS.get(entry["status"], entry["status"])
            if self._answers_void(claim, claim.state):
                claim._therapy_record_void_answer(era, status, entry["payer_ref"], reasons)
                line_vals.append(
                    {
                        "era_id": era.id,
                        "claim_id": claim.id,
                        "status": status,
                        "amount_charge": entry["charge"],
                        "amount_paid": 0.0,
                        "amount_contractual": 0.0,
                        "amount_patient": 0.0,
                        "reasons": "\n".join(reasons),
                    }
                )
                continue
            claim_values = {"payer_claim_ref": entry["payer_ref"] or claim.payer_claim_ref}
            if entry["status"] == REVERSAL:
                if any(posting[0] == claim for posting in postings):
                    # The file pays the claim, then takes it back: post what it paid first.
                    to_pay |= self.env["therapy.claim"]._post_remittances(postings, era)
                    postings = []
                freed |= claim._reverse_remittance(era)
                claim_values.update(
                    state="submitted",
                    amount_paid=0.0,
                    amount_contractual=0.0,
                    amount_patient=0.0,
                    denial_reason=False,
                )
            elif entry["status"] == DENIED:
                # A denial posts nothing: the biller corrects and resubmits, or bills the client.
                claim_values.update(
                    state="denied",
                    denial_reason="\n".join(reasons) or self.env._("Denied, no reason given."),
                )
            else:
                postings.append((claim, entry["paid"], write_off, patient, entry))
                moved = float_compare(patient, claim.amount_copay, precision_digits=2) > 0
                claim_values.update(
                    state="partial" if moved else "paid",
                    amount_paid=entry["paid"],
                    amount_contractual=write_off,
                    amount_patient=patient,
                    denial_reason=False,
                )
            claim._therapy_server_write(claim_values)
            line_vals.append(
                {
                    "era_id": era.id,
                    "claim_id": claim.id,
                    "status": x12.CLAIM_STATUS.get(entry["status"], entry["status"]),
                    "amount_charge": entry["charge"],
                    "amount_paid": entry["paid"],
                    "amount_contractual": write_off if entry["status"] != DENIED else 0.0,
                    "amount_patient": patient,
                    "reasons": "\n".join(reasons),
                }
            )
        self.env["therapy.era.line"].create(line_vals)
        to_pay |= self.env["therapy.claim"]._post_remittances(postings, era)
        payment_lines = freed
        if not float_is_zero(era.amount, precision_digits=2):
            era.payment_id = self._pay(era)
            payment_lines |= era.payment_id.move_id.line_ids
        if remittance["provider_adjustment_lines"]:
            era.provider_adjustment_move_id = self._post_provider_adjustments(
                era, remittance["provider_adjustment_lines"]
            )
            payment_lines |= era.provider_adjustment_move_id.line_ids
        # The payment, and what reversed claims free of earlier ones, settle the claims paid.
        receivable = (payment_lines | to_pay.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        if receivable.filtered("debit") and receivable.filtered("credit"):
            receivable.reconcile()
        return era

    @api.model
    def _general_journal(self, company):
        return self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", company.id)], order="id", limit=1
        )

    @api.model
    def _plb_account(self, company, reason):
        """Where a provider-level adjustment of this reason is booked: the reason's own account
        on the company, else its Provider Adjustments account."""
        own = company.therapy_plb_account_ids.filtered(lambda line: line.reason == reason)
        return own[:1].account_id or company.therapy_plb_account_id

    def _post_provider_adjustments(self, era, adjustments):
        """The insurer's adjustments that are for no claim (PLB), in one entry: what it
        withholds from the payment still settles the claims it pays (credited to the insurer's
        receivable) and is booked to the provider adjustments account; what it adds (interest)
        the other way round."""
        company = era.company_id
        receivable = era.payer_id.with_company(company).property_account_receivable_id
        lines = []
        for reason, reference, money in adjustments:
            label = self.env._(
                "%(era)s, %(reason)s",
                era=era.name,
                reason=x12.provider_adjustment_in_words(reason, reference),
            )
            lines += [
                Command.create(
                    {
                        "name": label,
                        "account_id": receivable.id,
                        "partner_id": era.payer_id.id,
                        "balance": -money,
                    }
                ),
                Command.create(
                    {
                        "name": label,
                        "account_id": self._plb_account(company, reason).id,
                        "partner_id": era.payer_id.id,
                        "balance": money,
                    }
                ),
            ]
        era.write(
            {
                "amount_provider_adjustments": round(sum(m for _r, _ref, m in adjustments), 2),
                "provider_adjustments": "\n".join(
                    f"{x12.provider_adjustment_in_words(reason, reference)}: {money:.2f}"
                    for reason, reference, money in adjustments
                ),
            }
        )
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": self._general_journal(company).id,
                "company_id": company.id,
                "date": era.payment_date,
                "ref": self.env._("Provider adjustments of %(era)s", era=era.name),
                "line_ids": lines,
            }
        )
        move.action_post()
        return move

    def _pay(self, era):
        """The insurer's one payment for the remittance."""
        journal = era.company_id.therapy_era_journal_id or self.env["account.journal"].search(
            # The chart of accounts' own bank journal comes first (card and check ones later).
            [("type", "=", "bank"), ("company_id", "=", era.company_id.id)],
            order="id",
            limit=1,
        )
        if not journal:
            raise UserError(
                self.env._("Create a bank journal first: the insurer's payment is posted to it.")
            )
        payment = (
            self.env["account.payment"]
            .with_context(force_payment_move=True)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": era.payer_id.id,
                    "amount": era.amount,
                    "date": era.payment_date,
                    "journal_id": journal.id,
                    "company_id": era.company_id.id,
                    "memo": era.name,
                    "payment_reference": era.trace_number,
                }
            )
        )
        payment.action_post()
        return payment
