# A rerouted trade-in (its return case still open) is in the queue's default view, so
# queue_rank 0 now means exactly that view: the queue is filtered, counted and ordered from
# one index. A generated column cannot be altered: it is dropped and added again.

from django.db import migrations, models

QUEUE_STATES = ["submitted", "quoted", "accepted", "received", "rerouted", "reoffered"]


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0018_money_payout_details_and_payee"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="tradein", name="tradein_queue_idx"),
        migrations.RemoveField(model_name="tradein", name="queue_rank"),
        migrations.AddField(
            model_name="tradein",
            name="queue_rank",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(state__in=QUEUE_STATES, then=models.Value(0)),
                    default=models.Value(1),
                ),
                output_field=models.SmallIntegerField(),
            ),
        ),
        migrations.AddIndex(
            model_name="tradein",
            index=models.Index(
                fields=["queue_rank", "created_at", "id"], name="tradein_queue_idx"
            ),
        ),
    ]
