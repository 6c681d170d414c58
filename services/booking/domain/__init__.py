"""The booking rules, as plain functions over a SQLAlchemy session."""
