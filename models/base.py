from odoo import api, models
from odoo.fields import Domain
from odoo.tools import OrderedSet

from .therapy_clinical_reference_mixin import log_references, reference_target

# The records a search must not reveal the links of to a user who cannot read them: the
# contacts (therapy clients among them), group sessions and their attendees, the measures'
# answers, and every Group Therapy record.
THERAPY_PROTECTED_MODELS = frozenset(
    {
        "res.partner",
        "calendar.event",
        "calendar.attendee",
        "survey.user_input",
        "survey.user_input.line",
    }
)
ANY_OPERATORS = ("any", "not any", "any!", "not any!")


def is_therapy_protected(model_name):
    return model_name in THERAPY_PROTECTED_MODELS or model_name.startswith("therapy.")


def is_record_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Base(models.AbstractModel):
    _inherit = "base"

    @api.model
    def _search(self, domain, *args, **kwargs):
        """A condition naming ids of a protected one2many or many2many (``meeting_ids in [8]``,
        ``session_ids in [8]``, ``partner_id.meeting_ids in [8]``) is searched through the
        records the user may read: Odoo looks those ids up as superuser, so the result told
        which contact, group or analytic account a session, membership or note the user cannot
        read belongs to (a roster from a session's id, a colleague's group from a client's
        membership). The same inside ``any`` (also ``any!`` and the fields Odoo searches
        without the comodel's rules, like a user's contact), where Odoo compiles the condition
        without asking the comodel's own search."""
        if not self.env.su:
            domain = _through_readable(self, Domain(domain))
        return super()._search(domain, *args, **kwargs)

    def _therapy_mail_guarded(self):
        """The records of ``self`` whose messages only those who may post there write, by
        every route (Group Therapy records: see ``mail.message``); none on Odoo's models."""
        return self.browse()

    def export_data(self, fields_to_export):
        """An export of any record reaching clinical text of other records (a client's notes
        by ``therapy_chart_note_ids/body``, a client's goals by ``therapy_goal_ids``, which
        exports their names) is on the access log, under those records. Clinical models and
        those showing clinical text log their own exports."""
        registry = self.env.registry
        if isinstance(
            self,
            (registry["therapy.access.logged.mixin"], registry["therapy.clinical.reference.mixin"]),
        ):
            return super().export_data(fields_to_export)
        with self.env["therapy.access.log"]._batch():
            result = super().export_data(fields_to_export)
            references = [
                (path, *target)
                for path in fields_to_export
                if (target := reference_target(self, path.split("/")))
            ]
            if references and self:
                log_references(self, references, "export")
        return result


def _through_readable(model, domain):
    """``domain`` on ``model`` with each protected x2many condition on ids rewritten as
    ``field any [("id", "in", ids)]``, which Odoo searches as the user (a condition for records
    without any, ``field = False``, keeps its meaning)."""
    return domain.map_conditions(lambda condition: _condition_through_readable(model, condition))


def _condition_through_readable(model, condition):
    field_expr, operator, value = condition.field_expr, condition.operator, condition.value
    # the field at the end of a path (partner_id.meeting_ids)
    field = None
    for name in field_expr.split("."):
        if field is not None:
            if not field.relational:
                return condition
            model = model.env[field.comodel_name]
        field = model._fields.get(name)
        if field is None:
            return condition
    if not field.relational:
        return condition
    comodel = model.env[field.comodel_name]
    if operator in ANY_OPERATORS:
        if not isinstance(value, (Domain, list, tuple)):
            return condition  # a Query or SQL built by the server
        subdomain = Domain(value)
        mapped = _through_readable(comodel, subdomain)
        return condition if mapped == subdomain else Domain(field_expr, operator, mapped)
    if field.type not in ("one2many", "many2many") or not is_therapy_protected(comodel._name):
        return condition
    if operator in ("child_of", "parent_of"):
        # Odoo walks the hierarchy from those ids as superuser, then matches it as for ``in``
        ids = [value] if is_record_id(value) else value
        if not isinstance(ids, (list, tuple, set, OrderedSet)) or not ids:
            return condition
        if not all(is_record_id(id_) for id_ in ids):
            return condition  # names are searched as the user
        return Domain(field_expr, "any", [("id", operator, list(ids))])
    if operator in ("=", "!="):  # Odoo reads ``= [8]`` as ``in [8]``
        operator = "in" if operator == "=" else "not in"
    if is_record_id(value):
        value = [value]
    if operator not in ("in", "not in") or not isinstance(value, (list, tuple, set, OrderedSet)):
        return condition
    ids = [id_ for id_ in value if id_ is not False]
    if not ids or not all(is_record_id(id_) for id_ in ids):
        return condition
    positive = operator == "in"
    through_readable = Domain(field_expr, "any" if positive else "not any", [("id", "in", ids)])
    if len(ids) == len(value):
        return through_readable
    without_any = Domain(field_expr, operator, [False])
    return (without_any | through_readable) if positive else (without_any & through_readable)
