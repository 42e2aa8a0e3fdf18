"""pytest glue for pytest-migrations; thin wrappers over the core modules."""
