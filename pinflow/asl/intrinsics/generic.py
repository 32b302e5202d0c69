"""States.UUID."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from pinflow.asl.intrinsics.nodes import Env


def uuid_(args: Sequence[Any], env: Env) -> str:
    """States.UUID(): a version 4 UUID drawn from the execution's seeded generator."""
    return str(uuid.UUID(int=env.rng.getrandbits(128), version=4))
