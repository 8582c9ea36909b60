"""Re-sync the roles for business device lists (issue 20): staff upload one for a customer."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0011_basket_order_roles")]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
