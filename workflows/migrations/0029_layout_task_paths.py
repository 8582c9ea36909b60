"""The compliance tasks moved from workflows.compliance_tasks to workflows.tasks.compliance:
point the schedules (and any queued task) at the path `workflows.tasks` exports them under."""

from django.db import migrations

OLD, NEW = "workflows.compliance_tasks.", "workflows.tasks."
NAMES = ("send_police_reports", "anonymise_expired_records")


def repoint(apps, old, new):
    Schedule = apps.get_model("django_q", "Schedule")
    for name in NAMES:
        Schedule.objects.filter(func=old + name).update(func=new + name)


class Migration(migrations.Migration):
    dependencies = [("workflows", "0028_speed_unit_received"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [
        migrations.RunPython(
            lambda apps, _: repoint(apps, OLD, NEW), lambda apps, _: repoint(apps, NEW, OLD)
        )
    ]
