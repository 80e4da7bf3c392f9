from . import therapy_charting_wizard
from . import therapy_group_addendum_wizard
from . import therapy_claim_export_wizard
from . import therapy_era_import_wizard
from . import base_partner_merge_automatic_wizard
from . import account_payment_register
from . import therapy_attendance_correction_wizard
from . import therapy_part2_disclosure_wizard
