"""Reading a results table's columns: absent ones named, labels read as texts whatever their type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zenbatch.errors import ConfigError
from zenbatch.tables import label_texts, require_columns


def test_an_absent_column_is_named_with_the_columns_there_are():
    frame = pd.DataFrame({"status": ["succeeded"], "content": ["x"]})
    require_columns(frame, ["status"], "labeling")
    with pytest.raises(ConfigError, match=r"evaluation: no column 'truth', 'label' in the table; its columns are status, content"):
        require_columns(frame, ["truth", "label", "status"], "evaluation")


def test_labels_are_stripped_texts_and_whole_numbers_lose_their_point_zero():
    values = pd.Series([" positive ", None, np.nan, "", 4.0, 4.5, True, 7], dtype=object)
    assert label_texts(values) == ["positive", None, None, None, "4", "4.5", "true", "7"]
