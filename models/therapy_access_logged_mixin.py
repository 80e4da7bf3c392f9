from odoo import api, models
from odoo.exceptions import AccessError
from odoo.fields import Domain
from odoo.models import parse_read_group_spec

from .therapy_clinical_reference_mixin import label_is_clinical


class TherapyAccessLoggedMixin(models.AbstractModel):
    """Clinical records: whoever reads or exports their clinical text is on the access log.

    Every way a client reads records ends in ``_read_format`` (``read``, ``search_read``, and
    ``web_read`` through ``read``) or in ``export_data``; printing is logged by the reports
    (see ``ir.actions.report``). Inheriting models name their clinical fields and have a
    ``partner_id`` (the client).
    """

    _name = "therapy.access.logged.mixin"
    _inherit = ["therapy.access.log.request.mixin"]
    _description = "Clinical Record (access logged)"

    # The fields whose reading is an access to clinical content.
    _therapy_clinical_fields = ()

    def _read_format(self, fnames, load="_classic_read"):
        values_list = super()._read_format(fnames, load=load)
        clinical = [fname for fname in fnames if self._therapy_is_clinical_fname(fname)]
        if clinical and values_list:
            # The records actually returned (a record deleted meanwhile is left out).
            read = self.browse([values["id"] for values in values_list])
            self.env["therapy.access.log"]._log(read, "read", detail=", ".join(clinical))
        return values_list

    @api.model
    def _therapy_is_clinical_fname(self, fname):
        """Whether reading ``fname`` hands out clinical text: a clinical field, or the name
        (``display_name``) of a record named by its clinical text (a goal)."""
        return fname in self._therapy_clinical_fields or (
            fname == "display_name" and label_is_clinical(self)
        )

    @api.model
    def _search(self, domain, *args, **kwargs):
        # Every search (search, search_read, search_count, web_search_read, read_group, a
        # domain of another model reaching the notes) ends here: a condition on the clinical
        # text finds the notes that contain the words searched, which tells about their
        # clients. Those notes are logged; the words are not (they may be clinical).
        query = super()._search(domain, *args, **kwargs)
        searched = self._therapy_searched_clinical_fields(domain)
        if searched and not query.is_empty():
            matched = self.browse(query.get_result_ids())
            self.env["therapy.access.log"]._log(matched, "search", detail=", ".join(searched))
        return query

    @api.model
    def _therapy_searched_clinical_fields(self, domain):
        """The clinical fields a search domain puts a condition on (a path through another
        model, e.g. ``addendum_ids.body``, is logged by that model's own search).

        A condition on ``display_name`` (a many2one picker's ``name_search``, or a domain on
        it) searches the fields the name is made of: clinical text when the record is named by
        it (a treatment-plan goal is named by the goal itself), and the picker's answer is that
        text, so it counts even when no word was typed."""
        if not domain:
            return []
        clinical = self._therapy_clinical_fields
        name_fnames = self._rec_names_search or ([self._rec_name] if self._rec_name else [])
        searched = []
        for condition in Domain(domain).iter_conditions():
            fname = condition.field_expr.split(".")[0]
            if fname == "display_name":
                searched += [name for name in name_fnames if name in clinical]
            elif fname in clinical:
                searched.append(fname)
        return list(dict.fromkeys(searched))

    def export_data(self, fields_to_export):
        result = super().export_data(fields_to_export)
        clinical = [path for path in fields_to_export if self._therapy_is_clinical_path(path)]
        if clinical and self:
            self.env["therapy.access.log"]._log(self, "export", detail=", ".join(clinical))
        return result

    def _read_group_select(self, aggregate_spec, query):
        # ``body:array_agg`` would hand out the text of every note of a group, unlogged: clinical
        # text is read record by record (and logged), never aggregated. Counting is harmless.
        if aggregate_spec != "__count":
            fname, _property, func = parse_read_group_spec(aggregate_spec)
            if fname in self._therapy_clinical_fields and func not in ("count", "count_distinct"):
                raise AccessError(self._therapy_message_no_grouping(fname))
        return super()._read_group_select(aggregate_spec, query)

    def _read_group_groupby(self, alias, groupby_spec, query):
        fname = parse_read_group_spec(groupby_spec)[0]
        if fname in self._therapy_clinical_fields:
            raise AccessError(self._therapy_message_no_grouping(fname))
        return super()._read_group_groupby(alias, groupby_spec, query)

    def _therapy_message_no_grouping(self, fname):
        return self.env._(
            "“%(field)s” is clinical text: open the records to read it (every reading is on the "
            "access log); it cannot be grouped or aggregated.",
            field=self._fields[fname].string,
        )

    @api.model
    def _therapy_is_clinical_path(self, path):
        """Whether an export path (``body``, ``addendum_ids/body``) reaches clinical text."""
        model = self
        for fname in path.split("/"):
            field = model._fields.get(fname)
            if field is None:
                return False
            if fname in getattr(model, "_therapy_clinical_fields", ()) or (
                fname == "display_name" and label_is_clinical(model)
            ):
                return True
            if not field.relational:
                return False
            model = self.env[field.comodel_name]
        return False
