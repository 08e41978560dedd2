"""Which TCP addresses a process tree listens on, read from /proc (Linux), so a test can
check that nothing streamload starts is reachable from another machine."""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

_LISTEN = "0A"


def _listening_inodes() -> dict[str, tuple[str, int]]:
    """{socket inode: (ip, port)} for every listening TCP socket in this namespace."""
    out = {}
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != _LISTEN:
                continue
            hex_ip, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_ip)
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            out[fields[9]] = (str(ipaddress.ip_address(raw)), int(hex_port, 16))
    return out


def descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found


def listening_addresses(pids: set[int]) -> dict[int, set[tuple[str, int]]]:
    """{pid: {(ip, port)}} of the listening TCP sockets each process holds."""
    inodes = _listening_inodes()
    out: dict[int, set[tuple[str, int]]] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and (inode := target[8:-1]) in inodes:
                out.setdefault(pid, set()).add(inodes[inode])
    return out


def not_loopback(addresses: dict[int, set[tuple[str, int]]]) -> dict[int, set[tuple[str, int]]]:
    bad = {pid: {a for a in addrs if not ipaddress.ip_address(a[0]).is_loopback} for pid, addrs in addresses.items()}
    return {pid: addrs for pid, addrs in bad.items() if addrs}
