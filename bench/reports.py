"""`python -m bench reports [--rows N]`: the managers' reports (workflows/selectors/reports.py) on
PostgreSQL with N trade-ins and N units (1M by default), each report's median time.

The rows are written by SQL (generate_series), not the ORM: 1M trade-ins with their quotes,
payouts, labels, units, sales and refurbishment in a few minutes. Two years of history: 60% of
trade-ins accepted and paid or on their way, units sold, on the shelf, recycled or parted out;
the units without a trade-in (bought in otherwise) make up the rest of the N units. It runs in
a throwaway database, like every benchmark here.
"""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test.utils import override_settings

from bench.data import kept_database, throwaway_database, vacuum
from workflows.actions._costs import _carry_costs
from workflows.models import Unit
from workflows.selectors import learning, reports

TARGET_MS = 300


class Report:
    def __init__(self, rows: list) -> None:
        self.rows = rows


SEED = """
CREATE TEMP TABLE bench_rows AS
SELECT i,
       i %% 20 AS k,
       now() - make_interval(days => ((i::bigint * 2654435761) %% 730)::int,
                             secs => (i %% 86400)) AS created,
       (100 + i %% 400)::numeric(10, 2) AS amount,
       (SELECT array_agg(id ORDER BY id) FROM workflows_product) AS products
FROM generate_series(1, %(n)s) AS i;

-- A one-device order each, with the trade-in's id and reference (as migration 0035 made them).
INSERT INTO workflows_order (id, reference, submission_key, created_at)
SELECT i, 'TI-B' || i, 'bench-' || i, created FROM bench_rows;

INSERT INTO workflows_tradein (
    id, order_id, position, reference, state, product_id, screen, body, battery, accessories,
    imei, buyer_name, buyer_email, buyer_phone, fulfilment, address_line1, address_line2, city,
    region, postcode, country, payout_method, imei_status, model_mismatch, decline_reason,
    red_flag_override_reason, submission_key, created_at, updated_at, offer_amount,
    accepted_at, received_at)
SELECT i, i, 1, 'TI-B' || i,
       CASE WHEN k < 2 THEN 'submitted' WHEN k < 4 THEN 'quoted' WHEN k = 4 THEN 'accepted'
            WHEN k = 5 THEN 'received' WHEN k < 16 THEN 'closed' WHEN k < 19 THEN 'declined'
            ELSE 'expired' END,
       products[1 + ((i::bigint * 7919) %% cardinality(products))::int],
       'flawless', 'flawless', 'good', 'full', '35' || lpad(i::text, 13, '0'), 'Bench Buyer',
       'b' || i || '@example.com', '', 'ship', '1 Main St', '', 'Chicago', 'IL', '60601', 'US',
       'check', 'clean', false, '', '', 'bench-' || i, created, created,
       CASE WHEN k >= 2 AND k <> 16 THEN amount END,
       CASE WHEN k BETWEEN 4 AND 15 THEN LEAST(created + interval '1 day', now()) END,
       CASE WHEN k BETWEEN 5 AND 15 THEN LEAST(created + interval '4 days', now()) END
FROM bench_rows;

INSERT INTO workflows_quote (id, trade_in_id, amount, currency, valid_until, note, auto_quoted,
                             created_at)
SELECT i, i, amount, 'USD', created + interval '14 days', '', i %% 3 = 0,
       LEAST(created + interval '2 hours', now())
FROM bench_rows WHERE k >= 2 AND k <> 16;

INSERT INTO workflows_payout (id, trade_in_id, amount, currency, method, status,
    settlement_reference, failure_reason, stripe_account, attempt, provider_status, created_at,
    settled_at)
SELECT i, i, amount, 'USD', 'check', CASE WHEN k >= 6 THEN 'settled' ELSE 'pending' END,
       '', '', '', 0, '', LEAST(created + interval '1 day', now()),
       CASE WHEN k >= 6 THEN LEAST(created + interval '6 days', now()) END
FROM bench_rows WHERE k BETWEEN 4 AND 15;

INSERT INTO workflows_shippinglabel (id, trade_in_id, provider, direction, label_id,
    tracking_number, carrier, pdf, is_sample, cost, cost_currency, created_at, tracking_status,
    tracking_detail, tracking_error)
SELECT i, i, 'sample', 'to_shop', 'bench-' || i, '', 'sample', ''::bytea, true, 7.50, 'USD',
       LEAST(created + interval '1 day', now()), '', '', ''
FROM bench_rows WHERE k BETWEEN 4 AND 15;

-- Units: one per accepted trade-in, then units without one up to N.
INSERT INTO workflows_unit (id, product_id, imei, status, grade, trade_in_id, as_found,
    intake_notes, created_at, graded_at, sale_price, sale_channel, sold_on, received_at)
SELECT i, products[1 + ((i::bigint * 7919) %% cardinality(products))::int],
       '35' || lpad(i::text, 13, '0'), st.status,
       CASE WHEN k = 4 THEN '' ELSE (ARRAY['A', 'B', 'C'])[1 + i %% 3] END, i, '{}', '',
       created, CASE WHEN k > 4 THEN LEAST(created + interval '4 days', now()) END,
       CASE WHEN st.status = 'sold' THEN round(amount * 1.35, 2) END,
       CASE WHEN st.status = 'sold'
            THEN (ARRAY['storefront', 'marketplace', 'wholesale', 'parts'])[1 + i %% 4]
            ELSE '' END,
       CASE WHEN st.status = 'sold'
            THEN LEAST((created + interval '4 days' + make_interval(days => i %% 120))::date,
                       current_date) END,
       -- received at the bench with its trade-in (as trade_in_intake writes it)
       CASE WHEN k BETWEEN 5 AND 15 THEN LEAST(created + interval '4 days', now()) END
FROM bench_rows,
LATERAL (SELECT CASE WHEN k = 4 THEN 'received' WHEN i %% 10 < 6 AND k > 5 THEN 'sold'
                     -- a unit on the shelf for more than four months was sold long ago
                     WHEN k IN (6, 7) AND created < now() - interval '120 days' THEN 'sold'
                     WHEN i %% 10 IN (5, 6) THEN 'graded' WHEN i %% 10 = 7 THEN 'listed'
                     WHEN i %% 10 = 8 THEN 'recycled' ELSE 'parts' END AS status) AS st
WHERE k BETWEEN 4 AND 15;

INSERT INTO workflows_unit (id, product_id, imei, status, grade, trade_in_id, as_found,
    intake_notes, created_at, graded_at, sale_price, sale_channel, sold_on)
SELECT %(n)s + i, products[1 + ((i::bigint * 104729) %% cardinality(products))::int],
       '36' || lpad(i::text, 13, '0'), CASE WHEN i %% 10 < 7 THEN 'sold' ELSE 'recycled' END,
       (ARRAY['A', 'B', 'C'])[1 + i %% 3], NULL, '{}', '', created, created,
       CASE WHEN i %% 10 < 7 THEN round(amount * 1.2, 2) END,
       CASE WHEN i %% 10 < 7 THEN 'wholesale' ELSE '' END,
       CASE WHEN i %% 10 < 7 THEN created::date END
FROM bench_rows WHERE i <= %(n)s - (SELECT count(*) FROM workflows_unit);

INSERT INTO workflows_refurbishmentcost (unit_id, amount, note, created_at)
SELECT id, 20 + id %% 60, 'bench', created_at FROM workflows_unit WHERE id %% 5 = 0;

UPDATE workflows_product p SET stock = s.n
FROM (SELECT product_id, count(*) AS n FROM workflows_unit
      WHERE status IN ('received', 'graded', 'listed') GROUP BY product_id) s
WHERE s.product_id = p.id;
DROP TABLE bench_rows;
"""


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument("--repeat", type=int, default=7)
        parser.add_argument(
            "--keep",
            metavar="DB",
            help="seed this database once and keep it (rerun: migrate and measure only)",
        )

    def line(self, text: str = "") -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench reports seeds with PostgreSQL's generate_series: set DATABASE_URL"
            )
        rows = options["rows"]
        database = (
            kept_database(options["keep"])
            if options["keep"]
            else throwaway_database(name="bench_reports")
        )
        with database:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SELECT exists(SELECT 1 FROM workflows_unit)")
                seeded = cursor.fetchone()[0]
            if not seeded:
                with connection.cursor() as cursor:
                    cursor.execute(SEED, {"n": rows})
                    for table in ("order", "tradein", "quote", "payout", "shippinglabel", "unit"):
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('workflows_{table}', 'id'), "
                            f"(SELECT max(id) FROM workflows_{table}))"
                        )
                # Each unit's costs from its rows, by the rule the actions write them with.
                _carry_costs(Unit.objects.all())
                vacuum()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM workflows_tradein")
                trade_ins = cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM workflows_unit")
                units = cursor.fetchone()[0]
            how = "kept" if seeded else f"seeded in {time.perf_counter() - started:.0f} s"
            self.line(
                f"\nreports: {trade_ins:,} trade-ins, {units:,} units on PostgreSQL "
                f"({how}); median of "
                f"{options['repeat']} runs, 12 weeks, target ≤ {TARGET_MS} ms each"
            )
            # The police hold on, so "units on hold" has units to find.
            with override_settings(HOLD_DAYS=21, POLICE_REPORT="off"):
                self.measure(options["repeat"])

    def measure(self, repeat: int) -> None:
        period = reports.period(12)
        cases = {
            **{
                slug: (lambda build=build: build(period)) for slug, build in reports.REPORTS.items()
            },
            "on-hold": lambda: reports.units_on_hold(limit=200),
            # The price list page's rows: 90 days of sales' medians and quotes' acceptance.
            "price-list": lambda: Report(learning.price_rows()),
        }
        self.line(f"{'report':<12} {'rows':>6} {'ms':>8}  ")
        for slug, run in cases.items():
            result = run()  # warm: plans and caches, as a second request would find them
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
            ms = statistics.median(times)
            verdict = "ok" if ms <= TARGET_MS else "OVER"
            self.line(f"{slug:<12} {len(result.rows):>6} {ms:>8.1f}  {verdict}")
