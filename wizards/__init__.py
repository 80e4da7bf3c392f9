from . import therapy_charting_wizard
