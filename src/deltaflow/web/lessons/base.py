"""What every lesson's request shares: the wire's strictness (``protocol._Message``'s rules)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class LessonRequest(BaseModel):
    """A chapter's request: extra fields refused, strict types ("5" is not an int), NaN and ±inf
    refused. Each chapter's subclass bounds every size with ``Field(le=...)``, so the work one
    request can ask for is bounded by its schema."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    PART_FIELDS: ClassVar[dict[str, set[str]]] = {}
    """A chapter of several parts: each part's own fields; a request names a ``part`` and may set
    none of another part's fields (it would be silently ignored otherwise)."""

    @model_validator(mode="after")
    def _own_fields(self):
        if self.PART_FIELDS:
            own = self.PART_FIELDS[self.part]
            other = set().union(*self.PART_FIELDS.values()) - own
            stray = sorted(self.model_fields_set & other)
            if stray:
                raise ValueError(f"part {self.part!r} takes no {', '.join(stray)}")
        return self
