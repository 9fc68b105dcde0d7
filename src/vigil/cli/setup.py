"""Set-up and serving: ``vigil init`` and ``vigil up``."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer

from vigil.cli.output import console, emit
from vigil.cli.state import CliState, read_secret_file
from vigil.datadir import initialise

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("up")(up)


def init(
    ctx: typer.Context,
    admin_password_file: Path | None = typer.Option(
        None, "--admin-password-file", help="Password for the admin account (else generated)."
    ),
    as_json: bool = JSON,
) -> None:
    """Create the data directory, config, database, audit signing key and admin account.

    Running it again creates only what is missing and never overwrites anything.
    """
    state: CliState = ctx.obj
    password = None if admin_password_file is None else read_secret_file(admin_password_file)
    result = initialise(state.data_dir, admin_password=password, request_id=uuid.uuid4().hex)

    def human() -> None:
        made = [
            name
            for name, created in (
                ("config", result.created_config),
                ("audit signing key", result.created_key),
                ("admin account", result.created_admin),
            )
            if created
        ]
        console.print(f"Vigil data directory: {result.data_dir.resolve()}")
        console.print("created: " + (", ".join(made) if made else "nothing (already set up)"))
        if result.generated_password:
            console.print(f"admin password (shown once): {result.generated_password}")

    emit(result.to_dict(), as_json, human)


def up(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port to listen on."),
    as_json: bool = JSON,
) -> None:
    """Serve the API (and, later, the web UI) until stopped."""
    import uvicorn  # noqa: PLC0415 - only the serving command needs the server

    from vigil.api.app import create_api  # noqa: PLC0415 - keeps other commands light
    from vigil.app import open_services  # noqa: PLC0415

    state: CliState = ctx.obj
    services = open_services(state.data_dir, migrate_schema=True)
    bind_host = host or services.config.api.host
    bind_port = port or services.config.api.port
    url = f"http://{bind_host}:{bind_port}/api/v1"
    emit(
        {"api": url, "openapi": f"{url}/openapi.json", "docs": f"{url}/docs"},
        as_json,
        lambda: console.print(f"Vigil API on {url} (docs at {url}/docs)"),
    )
    try:
        uvicorn.run(create_api(services), host=bind_host, port=bind_port, log_level="info")
    finally:
        services.close()
