"""The operations, one module per family. Importing this package registers every handler."""

from opencomprehend.service import (
    detect,  # noqa: F401
    endpoints,  # noqa: F401
    entities_jobs,  # noqa: F401
    language,  # noqa: F401
    pii_detect,  # noqa: F401
    pii_jobs,  # noqa: F401
    recognizers,  # noqa: F401
    tags,  # noqa: F401
)
