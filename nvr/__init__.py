"""nvr package."""
