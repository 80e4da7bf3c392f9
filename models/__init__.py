from . import product_template
from . import therapy_group
from . import therapy_group_member
from . import res_partner
