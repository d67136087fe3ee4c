"""Privacy deletion is registered in one place and covers every table holding a user id."""

from __future__ import annotations

from sqlalchemy import Table

from core.db import Base
from core.storage import USER_DATA


def test_every_table_with_a_user_id_is_deleted_by_xoadulieu() -> None:
    listed = {model.__tablename__ for model, _, _ in USER_DATA}
    # A citizen is a (channel, user_id) pair; console tables' user_id is an account id.
    holding = {name for name, table in Base.metadata.tables.items()
               if isinstance(table, Table) and {"channel", "user_id"} <= set(table.c.keys())}
    assert holding, "the metadata has no table with a user id: the check would prove nothing"
    assert holding - listed == set(), "add these tables to core.storage.USER_DATA"
    assert listed - holding == set()


def test_each_entry_names_the_channel_and_user_columns_of_its_own_table() -> None:
    for model, channel, user in USER_DATA:
        assert channel.class_ is model and user.class_ is model
        assert (channel.key, user.key) == ("channel", "user_id")
