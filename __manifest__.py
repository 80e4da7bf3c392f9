{
    "name": "Group Therapy",
    "summary": "Client groups, group sessions, attendance with CPT codes, "
    "per-client billing and group charting for behavioral-health practices",
    "version": "19.0.1.0.0",
    "category": "Services/Group Therapy",
    "website": "https://github.com/group-therapy/group_therapy",
    "author": "group_therapy developers",
    "maintainers": ["group-therapy"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["calendar", "account", "contacts"],
    "data": [
        "security/group_therapy_security.xml",
        "security/ir.model.access.csv",
        "security/group_therapy_rules.xml",
        "views/product_template_views.xml",
        "views/therapy_group_views.xml",
        "views/therapy_group_member_views.xml",
        "views/res_partner_views.xml",
        "views/group_therapy_menus.xml",
        "data/product_data.xml",
    ],
    "demo": [
        "demo/group_therapy_demo.xml",
    ],
    "application": True,
    "installable": True,
}
