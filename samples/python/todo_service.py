"""In-memory todo storage with the tutorial's ownership rules."""

from __future__ import annotations

import secrets
import string
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

Todo = Dict[str, Any]

_ID_ALPHABET = string.ascii_lowercase + string.digits


class TodoService:
    def __init__(self) -> None:
        self._todos: List[Todo] = []

    def create(self, content: str, owner_id: str) -> Todo:
        todo = {
            "id": "".join(secrets.choice(_ID_ALPHABET) for _ in range(8)),
            "content": content,
            "ownerId": owner_id,
            "createdAt": datetime.now(timezone.utc).isoformat(),
        }
        self._todos.append(todo)
        return todo

    def list(self, owner_id: str, all_owners: bool = False) -> List[Todo]:
        """The caller's todos, or everyone's when `all_owners`."""
        return [t for t in self._todos if all_owners or t["ownerId"] == owner_id]

    def delete(self, todo_id: str, owner_id: str, any_owner: bool = False) -> Optional[Todo]:
        """Deletes a todo the caller owns (any todo when `any_owner`); None if there is none."""
        for todo in self._todos:
            if todo["id"] == todo_id and (any_owner or todo["ownerId"] == owner_id):
                self._todos.remove(todo)
                return todo
        return None
