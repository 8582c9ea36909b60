from django.urls import path

from buyer_portal import views, zip_lookup

app_name = "buyer_portal"
urlpatterns = [
    path("", views.storefront, name="storefront"),
    path("trade-in/", views.trade_in_form, name="form"),
    path("trade-in/zip/", zip_lookup.zip_lookup, name="zip_lookup"),
    path("trade-in/thanks/<str:token>/", views.confirmation, name="confirmation"),
    path("trade-in/status/<str:token>/", views.status, name="status"),
    path("trade-in/label/<str:token>/", views.label_pdf, name="label"),
    path("trade-in/offer/<str:token>/", views.quote, name="quote"),
    path("trade-in/offer/<str:token>/accept/", views.quote_accept, name="quote_accept"),
    path("trade-in/offer/<str:token>/decline/", views.quote_decline, name="quote_decline"),
    path("trade-in/payout-setup/<str:token>/", views.payout_setup, name="payout_setup"),
    path(
        "trade-in/payout-setup/<str:token>/done/", views.payout_setup_done, name="payout_setup_done"
    ),
    path(
        "trade-in/payout-setup/<str:token>/demo/", views.payout_setup_demo, name="payout_setup_demo"
    ),
]
