"""Reading attributes out of a stream record's raw item images (``{"S": ...}``, ``{"N": ...}``).

Stream consumers read only the attributes they need: some emulators render an empty map
without its type, which a whole-image deserialisation would refuse.
"""

from __future__ import annotations

from typing import Any


def image_string(image: dict[str, Any], name: str) -> str | None:
    value = (image.get(name) or {}).get("S")
    return str(value) if value is not None else None


def image_number(image: dict[str, Any], name: str) -> int | None:
    value = (image.get(name) or {}).get("N")
    return int(value) if value is not None else None


__all__ = ["image_number", "image_string"]
