"""Configuration: YAML loading with locations, packages, schemas and site settings."""
