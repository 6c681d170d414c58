"""Rules' numbers read from the environment: one table per service, one reader for all."""


def policy_from_environ(cls, environ: dict, table: dict):
    """Build the dataclass `cls` from `table` = {field: (VARIABLE, parse)}; unset variables keep defaults."""
    values = {}
    for field, (variable, parse) in table.items():
        if variable in environ:
            try:
                values[field] = parse(environ[variable])
            except ValueError:
                raise ValueError(f"{variable} has a value that cannot be read: {environ[variable]!r}") from None
    return cls(**values)
