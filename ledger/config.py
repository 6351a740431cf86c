"""Where the ledger lives: a database URL turned into eventsourcing's persistence settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ledger.errors import LedgerError

DEFAULT_DATABASE_URL = "sqlite:///ejournal.db"
"""The embedded default: one SQLite file in the working directory."""


SQLITE_PERSISTENCE = "ledger.sqlite_store:Factory"
POSTGRES_PERSISTENCE = "eventsourcing.postgres"


class BadDatabaseURLError(LedgerError):
    """The database URL is neither sqlite:///PATH nor postgresql://..."""


def persistence_env(database_url: str) -> dict[str, str]:
    """Return the eventsourcing settings for ``database_url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``postgresql://user[:password]@host[:port]/dbname``. Raises ``BadDatabaseURLError``.
    """
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise BadDatabaseURLError(f"no file in SQLite URL {database_url!r}")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": SQLITE_PERSISTENCE,
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "ledger.recorders:ChainedSQLiteApplicationRecorder",
        }
    if parts.scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise BadDatabaseURLError(f"no database name in {database_url!r}")
        return {
            "PERSISTENCE_MODULE": POSTGRES_PERSISTENCE,
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_POOL_SIZE": "8",
            "POSTGRES_MAX_OVERFLOW": "8",
            # The database-function insert path skips the table lock and our hook: keep it off.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": "ledger.recorders:ChainedPostgresApplicationRecorder",
        }
    raise BadDatabaseURLError(f"unsupported database URL {database_url!r}")
