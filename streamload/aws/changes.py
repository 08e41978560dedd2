"""``Change``: one line of the provisioning plan, and the deferred call that makes it so."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Action", "Change", "PENDING"]

# create/update: provision will call AWS. unchanged: ours and already as configured.
# foreign: exists but carries no tag of this run id, so provision neither edits nor
# (through teardown) deletes it; preflight still checks it.
Action = Literal["create", "update", "unchanged", "foreign"]
PENDING = ("create", "update")


@dataclass
class Change:
    account: str  # "stream" or "redshift": which profile acts
    kind: str
    name: str
    action: Action
    detail: str = ""
    apply: Callable[[], None] | None = None

    @property
    def pending(self) -> bool:
        return self.action in PENDING

    def describe(self) -> str:
        text = f"{self.action:<9} [{self.account}] {self.kind} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text
