from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("dashboard/", admin.site.urls),
    path("", include("buyer_portal.urls")),
]
