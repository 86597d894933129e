"""Who may ask the HTTP server what: the `Host` a request names, and the token `/api/*` needs.

- `Host` must name the address the request arrived on (the bound address, or the machine's own address when
  bound to 0.0.0.0), `localhost`, or a name in `METRICS_ALLOWED_HOSTS`. A web page cannot then read the server
  through DNS rebinding: its requests carry its own name (`evil.example`), which is none of those (421).
- `/api/*` shows bug titles and report text, so it is served only when `METRICS_API_TOKEN` is set, and then
  only to `Authorization: Bearer <token>`, compared in constant time.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

LOCAL_NAMES = frozenset({"localhost"})


def host_name(header: str | None) -> str | None:
    """The name part of a `Host` header (`Example.com.:9464` -> `example.com`, `[::1]:80` -> `::1`)."""
    if not header:
        return None
    value = header.strip().lower()
    if value.startswith("["):  # an IPv6 literal, with or without a port
        name, closed, port = value[1:].partition("]")
        return name if closed and _is_port(port.removeprefix(":"), port) else None
    if value.count(":") == 1:
        value, port = value.split(":", 1)
        if not port.isascii() or not port.isdigit():
            return None
    return value.rstrip(".") or None


def _is_port(digits: str, raw: str) -> bool:
    return raw == "" or (raw.startswith(":") and digits.isascii() and digits.isdigit())


@dataclass(frozen=True)
class Access:
    api_token: str | None = None  # None: /api/* is not served
    allowed_hosts: frozenset[str] = frozenset()  # names (lower case, no port) besides the local ones

    def host_allowed(self, header: str | None, local_address: str) -> bool:
        name = host_name(header)
        if name is None:
            return False
        return name in LOCAL_NAMES or name == local_address.lower() or name in self.allowed_hosts

    def api_allowed(self, authorization: str | None) -> bool:
        if not self.api_token:
            return False
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self.api_token.encode())

    def api_refusal(self) -> str:
        """The hint a refused /api request gets (never the token, never whether one was close)."""
        if not self.api_token:
            return "the drill-down API is off; set METRICS_API_TOKEN to serve /api/ (see docs/dashboards.md)"
        return "send the drill-down API's token: Authorization: Bearer <METRICS_API_TOKEN>"
