from . import therapy_superbill
from . import therapy_sign_in_sheet
from . import therapy_chart_note_integrity
from . import therapy_claim_lines
