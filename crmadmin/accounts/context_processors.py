from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """What the base layout needs to draw the navigation for the current user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_manage_connections": user.has_perm("zoho.change_connection"),
        "nav_is_staff": user.is_staff,
    }
