"""Imports every capability's ORM module so Base.metadata knows all tables (for Alembic and tests)."""

import importlib

from node.db.base import Base

ORM_MODULES = (
    "node.db.orm",
    "node.framework.orm",
    "node.rpl.orm",
    "node.issuance.orm",
    "node.federation.orm",
)

for _name in ORM_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a capability not built yet has no orm module
        if exc.name != _name:
            raise

metadata = Base.metadata
