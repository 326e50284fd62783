from django.db import migrations

# The individual-to-candidate limit per election, by the even year each two-year cycle ends.
LIMITS = {2016: 270000, 2018: 270000, 2020: 280000, 2022: 290000, 2024: 330000, 2026: 350000}


def add_limits(apps, schema_editor):
    ContributionLimit = apps.get_model("donations", "ContributionLimit")
    for cycle, amount_cents in LIMITS.items():
        ContributionLimit.objects.update_or_create(cycle=cycle, defaults={"amount_cents": amount_cents})


def remove_limits(apps, schema_editor):
    apps.get_model("donations", "ContributionLimit").objects.filter(cycle__in=LIMITS).delete()


class Migration(migrations.Migration):
    dependencies = [("donations", "0001_initial")]

    operations = [migrations.RunPython(add_limits, remove_limits)]
