"""``JobRun`` moves from markets to core: core takes the model into its state on the existing
table ``markets_jobrun`` (no database change, no row copied); ``markets.0002`` then drops it
from markets' state."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_health_sample'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='JobRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('job', models.CharField(db_index=True, max_length=200)),
                        ('task_id', models.CharField(blank=True, max_length=255)),
                        ('status', models.CharField(choices=[('running', 'Running'), ('success', 'Success'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='running', max_length=16)),
                        ('started_at', models.DateTimeField()),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('detail', models.JSONField(blank=True, default=dict)),
                    ],
                    options={
                        'db_table': 'markets_jobrun',
                        'ordering': ['-started_at'],
                        'indexes': [models.Index(fields=['job', '-started_at'], name='markets_jobrun_job_started')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
