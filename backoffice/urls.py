from django.contrib import admin
from django.urls import include, path

from backoffice.webhooks import stripe_webhook

urlpatterns = [
    path("dashboard/", admin.site.urls),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("", include("buyer_portal.urls")),
]
