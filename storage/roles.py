"""Account roles, in a module of their own: the command line offers them without loading the catalog's code."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["admin", "operator", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
