import importlib

from django.db import migrations

# The same steps as 0001 (create the permissions, then give each role exactly its own), run
# again so databases made before the compliance permissions existed get them too.
create_roles = importlib.import_module("backoffice.migrations.0001_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0003_roles_inspection"),
        ("workflows", "0013_compliance_schedules"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
