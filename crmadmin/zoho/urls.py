app_name = "zoho"

urlpatterns: list = []
