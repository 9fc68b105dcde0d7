"""Metadata store: models, engine, migrations."""
