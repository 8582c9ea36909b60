"""Re-sync the roles after issue 10's money rules: payouts and store credits are the
managers'; staff add blocklist entries but only managers change them; managers approve
changes of payout details."""

from importlib import import_module

from django.db import migrations


def resync_roles(apps, schema_editor):
    # The same steps as 0001: make any new permissions, then give each group exactly its own.
    import_module("backoffice.migrations.0001_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0005_roles_quote_policy"),
        ("workflows", "0018_money_payout_details_and_payee"),
    ]
    operations = [migrations.RunPython(resync_roles, migrations.RunPython.noop)]
