# Issue 18, records a dealer's licence rests on.
# - A seller's ID becomes append-only versions: the one-to-one becomes a foreign key with a
#   version number (existing rows are version 1, unchanged); a correction adds a row.
# - The police report's rows are stored (append-only) so a later change becomes a correction
#   row: each purchase already in a report gets its purchase row, from the values of now.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def rows_for_existing_reports(apps, schema_editor):
    TradeIn = apps.get_model("workflows", "TradeIn")
    Row = apps.get_model("workflows", "PoliceReportRow")
    Payout = apps.get_model("workflows", "Payout")
    Unit = apps.get_model("workflows", "Unit")
    Identity = apps.get_model("workflows", "SellerIdentity")
    bought = {"received", "rerouted", "reoffered", "closed", "recycled"}
    for t in TradeIn.objects.filter(police_report__isnull=False).order_by("pk").iterator():
        payout = Payout.objects.filter(trade_in=t).first()
        unit = Unit.objects.filter(trade_in=t).first()
        Row.objects.create(
            report_id=t.police_report_id,
            trade_in=t,
            kind="purchase",
            bought=t.state in bought,
            amount=payout.amount if payout else None,
            currency=payout.currency if payout else "",
            grade=unit.grade if unit else "",
            id_version=1 if Identity.objects.filter(trade_in=t).exists() else None,
            created_at=t.reported_at or t.updated_at,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0020_money_bank_payout_side_effect'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PoliceReportRow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('purchase', 'Purchase'), ('correction', 'Correction')], max_length=10)),
                ('bought', models.BooleanField(default=True)),
                ('amount', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('grade', models.CharField(blank=True, max_length=1)),
                ('id_version', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='ID version')),
                ('change', models.CharField(blank=True, max_length=300)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'verbose_name': 'police report row',
                'ordering': ['report', 'pk'],
            },
        ),
        migrations.AlterModelOptions(
            name='selleridentity',
            options={'ordering': ['trade_in', '-version'], 'permissions': [('view_id_number', 'Can see unmasked ID numbers (audited)'), ('erase_buyer', "Can erase a buyer's personal data on request"), ('correct_selleridentity', 'Can correct a recorded seller ID (a new version)')], 'verbose_name': 'seller identity', 'verbose_name_plural': 'seller identities'},
        ),
        migrations.AddField(
            model_name='selleridentity',
            name='correction_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='selleridentity',
            name='version',
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.AlterField(
            model_name='event',
            name='kind',
            field=models.CharField(choices=[('submitted', 'Submitted'), ('quoted', 'Quoted'), ('counter_quoted', 'Counter-quoted'), ('accepted', 'Accepted'), ('declined', 'Declined'), ('expired', 'Expired'), ('cancelled', 'Cancelled'), ('received', 'Received'), ('rerouted', 'Rerouted to returns'), ('closed', 'Closed'), ('red_flag_overridden', 'Red flag overridden'), ('details_changed', 'Details changed'), ('regraded', 'Regraded'), ('label_requested_again', 'Label requested again'), ('imei_check_requested', 'IMEI check requested'), ('side_effect_retried', 'Side effect retried'), ('imei_not_matched', 'Received without a matching IMEI scan'), ('blocklist_added', 'Blocklist entry added'), ('blocklist_changed', 'Blocklist entry changed'), ('blocklist_removed', 'Blocklist entry removed'), ('note_added', 'Note added'), ('email_resent', 'Email re-sent'), ('auto_quote_skipped', 'Left for staff by the auto-quote policy'), ('payout_requested', 'Payout requested'), ('payout_settled', 'Payout settled'), ('payout_failed', 'Payout failed'), ('payout_reversed', 'Payout reversed'), ('bank_payout_reported', 'Bank payout reported'), ('stripe_onboarded', 'Stripe onboarded'), ('payout_details_change_requested', 'Payout details change requested'), ('payout_details_changed', 'Payout details changed'), ('payout_details_change_rejected', 'Payout details change rejected'), ('payee_confirmed', 'Payee confirmed by the buyer'), ('return_resolved', 'Return resolved'), ('return_rejected', 'Return rejected'), ('revised_offer_sent', 'Revised offer sent'), ('revised_offer_accepted', 'Revised offer accepted'), ('returned_to_buyer', 'Returned to buyer'), ('recycled', 'Recycled'), ('unit_listed', 'Unit listed for sale'), ('unit_unlisted', 'Unit taken off sale'), ('unit_sold', 'Unit sold'), ('unit_recycled', 'Unit recycled'), ('unit_used_for_parts', 'Unit used for parts'), ('unit_returned', 'Unit returned to buyer'), ('unit_restocked', 'Unit back in stock'), ('store_credit_redeemed', 'Store credit redeemed'), ('store_credit_voided', 'Store credit voided'), ('email_sent', 'Email sent'), ('imei_checked', 'IMEI checked'), ('label_created', 'Label created'), ('return_label_created', 'Return label created'), ('label_voided', 'Label voided'), ('stripe_setup_sent', 'Stripe setup sent'), ('stripe_transfer_made', 'Stripe transfer made'), ('stripe_account_checked', 'Stripe account checked'), ('tracking_updated', 'Tracking updated'), ('declared', 'Seller declared ownership and age'), ('identity_recorded', "Seller's ID recorded"), ('identity_corrected', "Seller's ID corrected (new version)"), ('id_number_viewed', 'Whole ID number viewed'), ('hold_released', 'Released from the police hold'), ('reported_to_police', 'Reported to the police'), ('police_correction', 'Correction reported to the police'), ('anonymised', 'Personal data anonymised')], max_length=40),
        ),
        migrations.AlterField(
            model_name='selleridentity',
            name='trade_in',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='seller_identities', to='workflows.tradein', verbose_name='trade-in'),
        ),
        migrations.AddConstraint(
            model_name='selleridentity',
            constraint=models.UniqueConstraint(fields=('trade_in', 'version'), name='selleridentity_one_row_per_version'),
        ),
        migrations.AddField(
            model_name='policereportrow',
            name='report',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='workflows.policereport'),
        ),
        migrations.AddField(
            model_name='policereportrow',
            name='trade_in',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='police_report_rows', to='workflows.tradein'),
        ),
        migrations.RunPython(rows_for_existing_reports, migrations.RunPython.noop),
    ]
