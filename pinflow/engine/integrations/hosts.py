"""Which hosts HTTP Tasks may reach (`pinflow server --http-task-hosts`).

An HTTP Task makes the server send a request wherever a state machine's author says, so the server
decides where that may be. The default, `public`, allows a host only when every address its name
resolves to is a public one: no loopback, private, link-local (cloud metadata at 169.254.169.254),
shared or reserved address, so a workflow cannot reach the machine pinflow runs on or the network
behind it. That is also where AWS's HTTP Task reaches without a VPC connection: public endpoints.
More can be allowed by pattern: a host name (`api.example.com`, `*.example.com`), an address or network
(`127.0.0.1`, `10.0.0.0/8`), each optionally with a port (`127.0.0.1:8080`), or `*` for anything.

A name is resolved once (`HostPolicy.resolve`), and the request is sent to the address that was checked:
resolving it again to connect would let a name answer a public address to the check and a private one
to the connection (DNS rebinding).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import socket
from collections.abc import Sequence

PUBLIC = "public"
ANYWHERE = "*"


class Refused(Exception):
    """The host is not one HTTP Tasks may reach."""


class Unresolved(Refused):
    """The host is allowed by name, but its name resolves to no address."""


class HostPolicy:
    """Patterns of hosts HTTP Tasks may reach (see the module docstring)."""

    def __init__(self, patterns: Sequence[str] = (PUBLIC,)) -> None:
        self.patterns = tuple(p.strip() for p in patterns if p.strip()) or (PUBLIC,)
        for pattern in self.patterns:
            _parse(pattern)  # refuse a malformed pattern when the server starts, not at the first call

    @classmethod
    def from_text(cls, text: str | None) -> HostPolicy:
        """From a comma-separated list (None or empty: the default, `public`)."""
        return cls(tuple((text or PUBLIC).split(",")))

    def check(self, host: str, port: int) -> None:
        """Allow `host:port`, or raise Refused saying why (a name a pattern allows need not resolve)."""
        try:
            self.resolve(host, port)
        except Unresolved:
            pass

    def resolve(self, host: str, port: int) -> str:
        """The address to send a request for `host:port` to (the first of `addresses`)."""
        return self.addresses(host, port)[0]

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses a request for `host:port` may be sent to, in the resolver's order: those the
        name resolves to (resolved once) that the patterns allow.

        Raises:
            Refused: no address may be used (Unresolved: the name is allowed but resolves to none)."""
        host = host.strip("[]").lower()
        found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] | None = None

        def addresses() -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
            nonlocal found
            if found is None:
                found = _addresses(host)
            return found

        def every() -> list[str]:
            if not addresses():
                raise Unresolved(f"{host} does not resolve to an address")
            return [str(address) for address in addresses()]

        for pattern in self.patterns:
            if pattern == ANYWHERE:
                return every()
            if pattern == PUBLIC:
                continue
            name, network, wanted_port = _parse(pattern)
            if wanted_port is not None and wanted_port != port:
                continue
            if name is not None and fnmatch.fnmatchcase(host, name):
                return every()
            if network is not None:
                inside = [str(address) for address in addresses() if address in network]
                if inside:
                    return inside
        if PUBLIC in self.patterns:
            if addresses() and all(address.is_global for address in addresses()):
                return every()
            raise Refused(f"{host} is not a public address and this server's --http-task-hosts does not allow it")
        raise Refused(f"{host}:{port} is not allowed by this server's --http-task-hosts")


def _parse(pattern: str) -> tuple[str | None, ipaddress.IPv4Network | ipaddress.IPv6Network | None, int | None]:
    """(host name pattern, network, port) of one pattern."""
    if pattern in (PUBLIC, ANYWHERE):
        return None, None, None
    text, port = pattern, None
    if text.startswith("["):  # [::1]:8080
        inner, _, rest = text[1:].partition("]")
        text, port = inner, int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:
        text, _, given = text.partition(":")
        port = int(given)
    try:
        return None, ipaddress.ip_network(text, strict=False), port
    except ValueError:
        return text.lower(), None, port


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` names (itself when it is one); none when it does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in found:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses
