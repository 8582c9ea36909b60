from django.db import migrations

SCHEDULES = [
    # (function, minutes between runs). The report task sends only when there is something
    # due; its cadence is POLICE_REPORT_EVERY_HOURS (see workflows.compliance_tasks).
    ("workflows.compliance_tasks.send_police_reports", 15),
    ("workflows.compliance_tasks.anonymise_expired_records", 24 * 60),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=func.rsplit(".", 1)[1],
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


def remove_schedules(apps, schema_editor):
    names = [func.rsplit(".", 1)[1] for func, _ in SCHEDULES]
    apps.get_model("django_q", "Schedule").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("workflows", "0012_compliance")]
    operations = [migrations.RunPython(create_schedules, remove_schedules)]
