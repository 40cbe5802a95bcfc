"""The newest schema revision this flashcore knows, in a module of its own: the driver-only
report (`storage.light_read`) checks it without loading SQLAlchemy or Alembic. A test checks it
equals Alembic's single head (`storage.migrate.HEAD` is this value)."""

HEAD = "0031"
