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
        if query is not None and not query.where:
            connection = connections[self.object_list.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                                   [self.object_list.model._meta.db_table])
                    row = cursor.fetchone()
                if row and row[0] > EXACT_UP_TO:
                    return row[0]
        return super().count
