"""Storage: async SQLAlchemy 2 on SQLite (default) or PostgreSQL, Alembic migrations, unit of work."""
