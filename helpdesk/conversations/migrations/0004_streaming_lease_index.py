from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_assignment"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("state", "streaming")),
                fields=["updated_at"],
                name="message_streaming_lease",
            ),
        ),
    ]
