"""Store-credit codes work like cash: keep a keyed hash (look-up) and the last 4, not the code.

Existing codes are hashed in place and removed; their payouts' settlement references and
timeline notes are masked the same way. Their emails were sent already.
"""

from django.db import migrations, models
from django.utils.crypto import salted_hmac


def _normalize(code):
    text = "".join(ch for ch in str(code).upper() if ch.isalnum())
    if text.startswith("SC"):
        text = text[2:]
    return "SC-" + text


def hash_existing_codes(apps, schema_editor):
    StoreCredit = apps.get_model("workflows", "StoreCredit")
    Payout = apps.get_model("workflows", "Payout")
    Event = apps.get_model("workflows", "Event")
    for credit in StoreCredit.objects.all().iterator():
        code = credit.code
        credit.code_hash = salted_hmac(
            "workflows.store-credit-lookup", _normalize(code), algorithm="sha256"
        ).hexdigest()
        credit.code_last4 = code[-4:]
        credit.save(update_fields=["code_hash", "code_last4"])
        masked = f"store credit SC-…{code[-4:]}"
        Payout.objects.filter(pk=credit.payout_id, settlement_reference=code).update(
            settlement_reference=masked
        )
        payout = Payout.objects.get(pk=credit.payout_id)
        for event in Event.objects.filter(trade_in_id=payout.trade_in_id, note__contains=code):
            event.note = event.note.replace(code, masked)
            event.save(update_fields=["note"])


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0016_blocklist_audit"),
    ]

    operations = [
        migrations.AddField(
            model_name="storecredit",
            name="code_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="storecredit",
            name="code_last4",
            field=models.CharField(
                default="", editable=False, max_length=4, verbose_name="code (last 4)"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="storecredit",
            name="secret",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(hash_existing_codes, migrations.RunPython.noop),
        migrations.RemoveField(model_name="storecredit", name="code"),
        migrations.AlterField(
            model_name="storecredit",
            name="code_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
