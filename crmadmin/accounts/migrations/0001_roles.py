"""Create the roles Operator and Manager as groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Operator": [
        ("zoho", "view_connection"),
        ("zoho", "use_connection"),
    ],
    "Manager": [
        ("zoho", "view_connection"),
        ("zoho", "use_connection"),
        ("zoho", "add_connection"),
        ("zoho", "change_connection"),
        ("zoho", "delete_connection"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("zoho", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
