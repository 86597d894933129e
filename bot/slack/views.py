"""views.update after the ack, for a modal the person may have closed meanwhile.

Slack answers `not_found` when the modal was closed (or its view replaced) and `hash_conflict` when the view
changed since the `hash` sent: neither is a failure of the work the modal reported on (a story created, a
report linked), so they are logged and the caller goes on; any other error is raised as before.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

GONE = frozenset({"not_found", "hash_conflict"})


def update_view(client: WebClient, view_id: str, view: dict[str, Any], view_hash: str | None = None) -> bool:
    """views.update; False when the modal is gone or changed under us (logged, not raised)."""
    try:
        if view_hash:
            client.views_update(view_id=view_id, view=view, hash=view_hash)
        else:
            client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        if error not in GONE:
            raise
        log.info("views.update %s: %s (the modal was closed or changed); its work stands", view_id, error)
        return False
    return True
