"""Run as a process: THREADS threads make changes, each recorded with it, or reads, each
recorded alone (every other thread), and print each request id once its call returned
(acknowledged), until killed.

    python -m tests.audit.changer DATABASE_URL KEY_DIR THREADS
"""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

from vigil.audit.log import AuditLog
from vigil.audit.signing import SigningKey
from vigil.audit.writer import AuditWriter
from vigil.auth.access import Access
from vigil.auth.roles import LOCAL, RequestContext
from vigil.store.db import Database

_print = threading.Lock()


def change(access: Access, db: Database, n: int) -> None:
    while True:
        ctx = RequestContext(LOCAL, uuid.uuid4().hex)
        if n % 2:
            access.record_alone(ctx, "camera.view", f"thread:{n}")
        else:
            with db.write() as session:  # the change itself is beside the point; its record
                access.record(session, ctx, "setting.change", f"thread:{n}")
        with _print:
            sys.stdout.write(ctx.request_id + "\n")
            sys.stdout.flush()


def main() -> None:
    url, key_dir, threads = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    db = Database(url)
    log = AuditLog(SigningKey.load(key_dir))
    access = Access(db, log, AuditWriter(db, log))
    workers = [
        threading.Thread(target=change, args=(access, db, n), daemon=True) for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
