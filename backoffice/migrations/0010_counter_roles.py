"""Re-sync the roles for the counter: staff buy at the desk and keep the cash drawer; cash above
the counter's limit is the managers'."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0009_sales_roles"),
        ("workflows", "0031_counter_buyback_models"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
