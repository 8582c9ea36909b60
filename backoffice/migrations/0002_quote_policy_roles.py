from importlib import import_module

from django.db import migrations


def sync(apps, schema_editor):
    # The quoting policy's permissions exist only from workflows 0011: grant them to the roles.
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_roles"),
        ("workflows", "0011_quote_policy"),
    ]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
