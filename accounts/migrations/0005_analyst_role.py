"""The ``analyst`` role (a Django group, like the others)."""

from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="analyst")


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="analyst", user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_handoff_code_challenge")]

    operations = [migrations.RunPython(create_group, remove_group)]
