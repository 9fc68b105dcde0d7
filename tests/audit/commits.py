"""How many records each of a group-commit writer's commits carried."""

from __future__ import annotations

from vigil.audit.writer import AuditWriter


def counted_commits(writer: AuditWriter) -> list[int]:
    """The list the writer's commits append their batch sizes to from now on."""
    commits: list[int] = []
    original = writer._commit

    def counting(batch: list) -> None:  # type: ignore[type-arg]
        commits.append(len(batch))
        original(batch)

    writer._commit = counting  # type: ignore[method-assign]
    return commits
