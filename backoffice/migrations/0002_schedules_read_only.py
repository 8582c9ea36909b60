from django.contrib.auth.management import create_permissions
from django.db import migrations


def resync_roles(apps, schema_editor):
    # The Admin role no longer has django_q.change_schedule: editing a schedule's function
    # ran arbitrary code as the server's user. Permissions are made first, as in 0001.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    from backoffice.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_roles"),
        ("workflows", "0008_trade_in_labels"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
