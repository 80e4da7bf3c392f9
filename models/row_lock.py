from psycopg2.errors import LockNotAvailable

from odoo.exceptions import UserError
from odoo.tools import SQL


def lock_rows_or_refuse(records, refusal):
    """Lock the records' rows for this transaction without waiting; if another transaction
    holds them (the same session invoiced or signed twice at once), refuse with ``refusal``."""
    if not records:
        return
    try:
        records.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s FOR UPDATE NOWAIT",
                SQL.identifier(records._table),
                tuple(records.ids),
            )
        )
    except LockNotAvailable:
        raise UserError(refusal) from None
