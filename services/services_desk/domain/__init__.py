"""The desk's rules, as plain functions over a SQLAlchemy session."""
