"""The notify rules, as plain functions over a SQLAlchemy session."""
