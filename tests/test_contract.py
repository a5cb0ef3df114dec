"""The warehouse layout declared in wangtai.contract agrees with the feeds it is derived from."""

import pytest

from wangtai.contract import (
    DERIVED_TYPES,
    FEEDS,
    REMOVED_COLUMNS,
    WAREHOUSE_COLUMNS,
)


@pytest.mark.parametrize("feed", FEEDS)
def test_warehouse_keeps_every_feed_column_but_personal_and_removed_ones(feed):
    spec = FEEDS[feed]
    kept = {c.name for c in spec.columns if not c.pii} - set(REMOVED_COLUMNS.get(feed, ()))
    own = set(WAREHOUSE_COLUMNS[feed]) - set(DERIVED_TYPES)
    assert own == kept  # a new contract column must be placed in the layout (or declared removed)
    assert not {c.name for c in spec.columns if c.pii} & set(WAREHOUSE_COLUMNS[feed])
    assert not set(REMOVED_COLUMNS.get(feed, ())) & set(WAREHOUSE_COLUMNS[feed])
    assert len(set(WAREHOUSE_COLUMNS[feed])) == len(WAREHOUSE_COLUMNS[feed])
