from django.db import migrations

SCHEDULES = [
    # (function, minutes between runs)
    ("workflows.tasks.run_due_side_effects", 1),
    ("workflows.tasks.expire_lapsed_quotes", 15),
    ("workflows.tasks.cancel_unarrived_devices", 60),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=func.rsplit(".", 1)[1],
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(create_schedules, migrations.RunPython.noop)]
