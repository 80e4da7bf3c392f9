from . import product_template
from . import product_product
from . import therapy_group
from . import therapy_group_member
from . import therapy_attendance
from . import calendar_event
from . import res_partner
from . import account_move
