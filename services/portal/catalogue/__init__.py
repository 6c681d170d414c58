"""Each area's words in a module of its own, so the areas grow without touching one long table."""
