"""``JobRun`` now belongs to core (``core.0003_jobrun`` took it over on the same table): drop it
from markets' state only, and hand its content type to core so the permissions granted on it
and the admin's log entries stay attached."""

from django.db import migrations


def _content_type_to(apps, schema_editor, *, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    ContentType = apps.get_model('contenttypes', 'ContentType')
    db = schema_editor.connection.alias
    if ContentType.objects.using(db).filter(app_label=new, model='jobrun').exists():
        return
    ContentType.objects.using(db).filter(app_label=old, model='jobrun').update(app_label=new)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _content_type_to(apps, schema_editor, old='markets', new='core')


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    _content_type_to(apps, schema_editor, old='core', new='markets')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('core', '0003_jobrun'),
        ('markets', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='JobRun')],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
