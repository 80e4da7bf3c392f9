from . import test_install
from . import test_service_codes
from . import test_therapy_group
from . import test_access
from . import test_session_attendance
from . import test_billing
from . import test_charting
