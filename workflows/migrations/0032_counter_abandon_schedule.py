"""The counter's sweep: buybacks nobody finished end as abandoned (every 15 minutes)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="abandon_stale_counter_buybacks",
        defaults={
            "func": "workflows.tasks.abandon_stale_counter_buybacks",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(
        name="abandon_stale_counter_buybacks"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0031_counter_buyback_models")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
