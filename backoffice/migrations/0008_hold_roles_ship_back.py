"""Re-sync the roles for the "To ship back" list: staff see it and pack, ship and hand over
devices going back to their buyers."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    # The same steps as 0001: make any new permissions, then give each group exactly its own.
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0007_records_roles"),
        ("workflows", "0022_hold_revision_reason_and_ship_back"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
