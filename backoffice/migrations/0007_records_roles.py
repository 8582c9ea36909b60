"""Re-sync the roles after issue 18: managers correct a recorded seller ID (a new version)."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0006_roles_money"),
        ("workflows", "0021_records_identity_versions_police_rows"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
