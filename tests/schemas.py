"""A fresh PostgreSQL schema for a test or a benchmark: its URL sees nothing else of the
server's database, and the schema is dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import create_engine, text


@contextmanager
def fresh_schema(server_url: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """The URL of a new, empty schema named ``prefix`` and a random suffix (dropped on
    leaving unless ``keep``)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in server_url else "?"
        try:
            yield f"{server_url}{sep}options={quote(f'-csearch_path={schema}')}"
        finally:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
