"""Type aliases shared across the package.

``Any`` appears only here, at the raw JSON boundary.
"""

from __future__ import annotations

from typing import Any, Union

#: A JSON value as produced by :func:`json.loads`.
JSONValue = Union[dict[str, Any], list[Any], str, int, float, bool, None]

#: A JSON object, e.g. a request document.
JSONObject = dict[str, Any]

#: A request document (docs/design.md, "The request document").
Document = dict[str, Any]

#: One RFC 6902 operation, e.g. ``{"op": "add", "path": "/a", "value": 1}``.
PatchOp = dict[str, Any]

#: An RFC 6902 patch.
Patch = list[PatchOp]
