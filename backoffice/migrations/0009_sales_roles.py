"""Re-sync the roles for money per unit: staff enter refurbishment costs; managers read the
money reports."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    # The same steps as 0001: make any new permissions, then give each group exactly its own.
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0008_hold_roles_ship_back"),
        ("workflows", "0023_sales_money_per_unit"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
