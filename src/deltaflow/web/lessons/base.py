"""What every lesson's request shares: the wire's strictness (``protocol._Message``'s rules)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LessonRequest(BaseModel):
    """A chapter's request: extra fields refused, strict types ("5" is not an int), NaN and ±inf
    refused. Each chapter's subclass bounds every size with ``Field(le=...)``, so the work one
    request can ask for is bounded by its schema."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
