from . import therapy_superbill
from . import therapy_sign_in_sheet
