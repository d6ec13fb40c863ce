"""Python files: decoded keeping their encoding, BOM and newlines, migrated by the engine with the
Python steps, encoded back the same way."""

from __future__ import annotations

from tnx2nxdi import engine
from tnx2nxdi.engine import Migration
from tnx2nxdi.findings import Outcome
from tnx2nxdi.options import Options
from tnx2nxdi.sources import SourceError, decode_python, encode_python
from tnx2nxdi.steps import PYTHON


def migrate_source(source: str, options: Options, path: str | None = None) -> Migration:
    """Migrate one Python source text (``path``: where relative checkpoint paths are read)."""
    return engine.migrate_source(source, options, PYTHON, path)


def migrate_python(data: bytes, options: Options, path: str | None = None) -> Outcome:
    try:
        decoded = decode_python(data)
    except SourceError as error:
        return Outcome("", "", data, error=str(error))
    migration = migrate_source(decoded.text, options, path)
    new_data = data if migration.code == decoded.text else encode_python(migration.code, decoded)
    return Outcome(decoded.text, migration.code, new_data, migration.findings, migration.error,
                   error_finding=migration.error_finding)
