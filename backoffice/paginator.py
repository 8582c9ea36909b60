from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap, and staff see exact numbers.
EXACT_UP_TO = 10_000


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered list of a large table from PostgreSQL's statistics.

    COUNT(*) reads every row's visibility; on the queue that was most of the page's time at
    100k trade-ins. Filtered and searched lists, and small tables, are still counted exactly.
    """

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is None or query.where:
            return super().count
        connection = connections[self.object_list.db]
        if connection.vendor != "postgresql":
            return super().count
        table = connection.ops.quote_name(self.object_list.model._meta.db_table)
        with connection.cursor() as cursor:
            # One query either way: the estimate for a big table, an exact count for a small.
            cursor.execute(
                f"SELECT CASE WHEN reltuples > %s THEN reltuples::bigint "
                f"ELSE (SELECT COUNT(*) FROM {table}) END FROM pg_class WHERE oid = %s::regclass",
                [EXACT_UP_TO, self.object_list.model._meta.db_table],
            )
            return cursor.fetchone()[0]
