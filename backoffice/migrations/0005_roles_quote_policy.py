from importlib import import_module

from django.db import migrations


def sync(apps, schema_editor):
    # The quoting policy's permissions exist only from workflows 0014: grant them to the roles.
    import_module("backoffice.migrations.0003_roles_inspection").sync(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0004_compliance_roles"),
        ("workflows", "0014_quote_policy"),
    ]
    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
