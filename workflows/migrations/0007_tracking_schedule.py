from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="poll_tracking",
        defaults={
            "func": "workflows.tasks.poll_tracking",
            "schedule_type": "I",
            "minutes": 60,
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="poll_tracking").delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0006_integrations")]
    operations = [migrations.RunPython(create_schedule, remove_schedule)]
