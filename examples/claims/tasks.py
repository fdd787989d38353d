"""The claims task: who claims what in a news article, and whether it can be checked."""

from typing import Literal

from pydantic import BaseModel, Field

from llmextract.tasks import SpanText, task


class Claim(BaseModel):
    """A claim made in the article."""

    claimant: SpanText | None = Field(
        default=None, description="Who makes the claim, copied exactly as the article writes it"
    )
    claim: SpanText = Field(description="The claim, copied exactly from the article")
    checkable: Literal["yes", "no"] = Field(
        description="yes: a fact that records could confirm or refute; no: an opinion or a "
        "prediction"
    )


task("claims", Claim, key="claim", template="claims.v1")
