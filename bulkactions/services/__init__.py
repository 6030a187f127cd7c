"""Every write to an import job or a bulk action (views, tasks and commands call these)."""

from bulkactions.services.actions import (
    AlreadyStarted,
    bulk_action_preview,
    bulk_action_run,
    bulk_action_start,
    bulk_action_undo,
)
from bulkactions.services.imports import (
    credentials_download_record,
    credentials_purge,
    import_abandon,
    import_commit,
    import_is_stalled,
    import_map,
    import_resume,
    import_row_fix,
    import_row_remove,
    import_start,
    mapping_problems,
)
from bulkactions.services.rollover import (
    academic_year,
    rollover_current,
    rollover_preview,
    rollover_start,
    rollover_undo,
    rollover_undo_problem,
)

__all__ = [
    "academic_year",
    "rollover_current",
    "rollover_preview",
    "rollover_start",
    "rollover_undo",
    "rollover_undo_problem",
    "AlreadyStarted",
    "bulk_action_preview",
    "bulk_action_run",
    "bulk_action_start",
    "bulk_action_undo",
    "credentials_download_record",
    "credentials_purge",
    "import_abandon",
    "import_commit",
    "import_is_stalled",
    "import_map",
    "import_resume",
    "import_row_fix",
    "import_row_remove",
    "import_start",
    "mapping_problems",
]
