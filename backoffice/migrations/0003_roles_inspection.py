from django.contrib.auth.management import create_permissions
from django.db import migrations


def sync(apps, schema_editor):
    # The roles gain the revised-offer, inspection-photo and store-credit permissions.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    from backoffice.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0002_schedules_read_only"),
        ("workflows", "0011_inspection_revised_offers_unit_life"),
    ]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
