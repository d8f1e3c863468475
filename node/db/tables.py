"""Imports every capability's ORM module so Base.metadata knows all tables (for Alembic and tests)."""

from node.db.base import Base
from node.optional import import_optional

ORM_MODULES = (
    "node.db.orm",
    "node.framework.orm",
    "node.rpl.orm",
    "node.issuance.orm",
    "node.federation.orm",
)

for _name in ORM_MODULES:
    import_optional(_name)  # a capability not built yet has no orm module

metadata = Base.metadata
