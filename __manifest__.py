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
        "views/group_therapy_menus.xml",
    ],
    "demo": [],
    "application": True,
    "installable": True,
}
