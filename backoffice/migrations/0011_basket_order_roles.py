"""Re-sync the roles for orders (issue 20): every role reads them."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0010_counter_roles"),
        ("workflows", "0035_basket_orders"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
