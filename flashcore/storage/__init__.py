"""Storage: SQLAlchemy models, engine set-up, migrations and repositories. Rows never leave here."""
