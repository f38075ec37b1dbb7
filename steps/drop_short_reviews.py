"""Step: keep the reviews with enough text to label; trim the whitespace around them."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from zenml import log_metadata, step


@step
def drop_short_reviews(dataset: pd.DataFrame, text_column: str = "text", min_characters: int = 10) -> Annotated[pd.DataFrame, "reviews"]:
    """Rows whose ``text_column`` holds at least ``min_characters`` once trimmed; no request is paid for the rest."""
    text = dataset[text_column].fillna("").astype(str).str.strip()
    kept = dataset.assign(**{text_column: text})[text.str.len() >= min_characters].reset_index(drop=True)
    log_metadata({"rows_in": len(dataset), "rows_kept": len(kept), "dropped": len(dataset) - len(kept)})
    return kept
