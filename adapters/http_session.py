"""The one way our adapters build an HTTP session: urllib3 retries for connection errors and 5xx."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def retrying_session(total: int = 5, backoff_factor: float = 1.0) -> requests.Session:
    """A Session retrying connection errors and 5xx on GET; 429 is left to the caller (zenpy, budgeted)."""
    retry = Retry(
        total=total,
        backoff_factor=backoff_factor,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,  # the last 5xx reaches the caller, which reports it
        respect_retry_after_header=False,  # else urllib3 would also retry 429s, outside zenpy's budget
    )
    session = requests.Session()
    for scheme in ("http://", "https://"):
        session.mount(scheme, HTTPAdapter(max_retries=retry))
    return session
