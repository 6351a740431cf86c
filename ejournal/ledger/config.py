"""Where the ledger lives: a database URL turned into eventsourcing's persistence settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from ejournal.ledger.errors import LedgerError

DEFAULT_DATABASE_URL = "sqlite:///ejournal.db"
"""The embedded default: one SQLite file in the working directory."""


POOL_MIN_CONNECTIONS = 2
POOL_MAX_CONNECTIONS = 16
"""A PostgreSQL ledger's connection pool: opened with the minimum, grown on demand to the maximum
(idle connections above the minimum are closed after 10 minutes)."""

SQLITE_PERSISTENCE = "ejournal.ledger.sqlite_store:Factory"
_RECORDERS = "ejournal.ledger.recorders"
POSTGRES_PERSISTENCE = "eventsourcing.postgres"


class BadDatabaseURLError(LedgerError):
    """The database URL is neither sqlite:///PATH nor postgresql://..."""


def persistence_env(database_url: str) -> dict[str, str]:
    """Return the eventsourcing settings for ``database_url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``postgresql://user[:password]@host[:port]/dbname`` or, over the server's Unix socket,
    ``postgresql://user@/dbname?host=/var/run/postgresql`` (libpq's form: the socket's directory).
    Raises ``BadDatabaseURLError``.
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
            "APPLICATION_RECORDER_TOPIC": f"{_RECORDERS}:ChainedSQLiteApplicationRecorder",
        }
    if parts.scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise BadDatabaseURLError(f"no database name in {database_url!r}")
        return {
            "PERSISTENCE_MODULE": POSTGRES_PERSISTENCE,
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": _postgres_host(parts.hostname, parts.query, database_url),
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_LOCK_TIMEOUT": "10",
            # At most 16 connections, as before, but only 2 opened up front (the pool's minimum):
            # a one-shot command, or a test holding two ledgers, held 2 × 9 idle connections,
            # enough to exhaust a shared server's max_connections under concurrent runs.
            "POSTGRES_POOL_SIZE": str(POOL_MIN_CONNECTIONS),
            "POSTGRES_MAX_OVERFLOW": str(POOL_MAX_CONNECTIONS - POOL_MIN_CONNECTIONS),
            # The database-function insert path skips the table lock and our hook: keep it off.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "APPLICATION_RECORDER_TOPIC": f"{_RECORDERS}:ChainedPostgresApplicationRecorder",
        }
    raise BadDatabaseURLError(f"unsupported database URL {database_url!r}")


def _postgres_host(hostname: str | None, query: str, database_url: str) -> str:
    """The URL's host, or the directory of the server's Unix socket given as ``?host=``. Any
    other parameter is refused rather than ignored (``sslmode``, say, would be a promise)."""
    try:
        parameters = parse_qsl(query, keep_blank_values=True, strict_parsing=True) if query else []
    except ValueError:
        raise BadDatabaseURLError(f"malformed parameters in {database_url!r}") from None
    if [name for name, _ in parameters] not in ([], ["host"]):
        raise BadDatabaseURLError(f"the one parameter supported is host=: {database_url!r}")
    if not parameters:
        return hostname or "127.0.0.1"
    directory = parameters[0][1]
    if hostname or not directory.startswith("/"):
        msg = f"host= is the directory of a Unix socket, with no host before it: {database_url!r}"
        raise BadDatabaseURLError(msg)
    return directory
