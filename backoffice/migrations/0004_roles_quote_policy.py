from importlib import import_module

from django.db import migrations


def sync(apps, schema_editor):
    # The quoting policy's permissions exist only from workflows 0012: grant them to the roles.
    import_module("backoffice.migrations.0003_roles_inspection").sync(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_roles_inspection"),
        ("workflows", "0012_quote_policy"),
    ]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
