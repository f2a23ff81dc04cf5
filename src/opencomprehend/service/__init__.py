"""The operations, one module per family. Importing this package registers every handler."""

from opencomprehend.service import entities_jobs  # noqa: F401
