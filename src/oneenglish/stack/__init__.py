"""Local PostgreSQL and FerretDB processes, for development and tests only."""
