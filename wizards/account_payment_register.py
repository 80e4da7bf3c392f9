from odoo import models
from odoo.exceptions import LockError, UserError


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        """Two payment dialogs open on one session invoice: the second one to confirm finds
        the balance already paid, under a lock, and registers nothing."""
        invoices = self.line_ids.move_id.filtered("therapy_event_id")
        if invoices:
            try:
                invoices.lock_for_update(allow_referencing=True)
            except LockError:
                raise UserError(
                    self.env._(
                        "Someone else is registering a payment for %(invoice)s right now. Wait "
                        "a moment and reopen the session: nothing was paid twice.",
                        invoice=invoices[0].name,
                    )
                ) from None
            # What another transaction committed before the lock is what counts.
            invoices.invalidate_recordset(["amount_residual", "payment_state"])
            self.line_ids.invalidate_recordset(["amount_residual", "reconciled"])
            paid = invoices.filtered(
                lambda move: move.payment_state in ("paid", "in_payment", "reversed")
                or move.currency_id.is_zero(move.amount_residual)
            )
            if paid:
                raise UserError(
                    self.env._(
                        "%(invoice)s (%(client)s) has just been paid: nothing was paid twice. "
                        "Reopen the session to see the payment.",
                        invoice=paid[0].name,
                        client=paid[0].partner_id.display_name,
                    )
                )
            residual = sum(invoices.mapped("amount_residual"))
            if self.currency_id == invoices[:1].currency_id and (
                self.currency_id.compare_amounts(self.amount, residual) > 0
                and self.payment_difference_handling != "reconcile"
                and len(invoices) == 1
            ):
                raise UserError(
                    self.env._(
                        "%(invoice)s now has %(residual)s left to pay (a payment was just "
                        "registered): enter that amount, or close the dialog.",
                        invoice=invoices[0].name,
                        residual=invoices[0].currency_id.format(residual),
                    )
                )
        return super()._create_payments()
