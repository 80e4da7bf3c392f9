from odoo import api, models


class TherapyAccessLogRequestMixin(models.AbstractModel):
    """The calls a client makes that read several records, or a record and its lines: what they
    log goes into one INSERT at the end of the call (``therapy.access.log._batch``), however many
    records, lines and labels they hand out."""

    _name = "therapy.access.log.request.mixin"
    _description = "Access Logged Once per Request"

    @api.readonly
    def read(self, fields=None, load="_classic_read"):
        with self.env["therapy.access.log"]._batch():
            return super().read(fields, load=load)

    @api.readonly
    def web_read(self, specification):
        # a form reads the record, then its lines with web_read of their own
        with self.env["therapy.access.log"]._batch():
            return super().web_read(specification)

    def onchange(self, values, field_names, fields_spec):
        # its answer is formatted by web_read, record by record and line by line
        with self.env["therapy.access.log"]._batch():
            return super().onchange(values, field_names, fields_spec)

    @api.model
    @api.readonly
    def search_read(self, *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            return super().search_read(*args, **kwargs)

    @api.model
    @api.readonly
    def web_search_read(self, *args, **kwargs):
        # the list, its count and the text it may show
        with self.env["therapy.access.log"]._batch():
            return super().web_search_read(*args, **kwargs)

    @api.model
    @api.readonly
    def web_read_group(self, *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            return super().web_read_group(*args, **kwargs)

    @api.model
    @api.readonly
    def name_search(self, *args, **kwargs):
        with self.env["therapy.access.log"]._batch():
            return super().name_search(*args, **kwargs)

    @api.model
    @api.readonly
    def web_name_search(self, *args, **kwargs):
        # a picker: the search, then the fields it shows of each record found
        with self.env["therapy.access.log"]._batch():
            return super().web_name_search(*args, **kwargs)
