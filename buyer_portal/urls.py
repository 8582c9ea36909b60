from django.urls import path

from buyer_portal import views, zip_lookup
from buyer_portal.views import business, counter, order_offers, revised_offers

app_name = "buyer_portal"
urlpatterns = [
    path("", views.storefront, name="storefront"),
    path("trade-in/", views.trade_in_form, name="form"),
    path("trade-in/basket/<int:position>/remove/", views.basket_remove, name="basket_remove"),
    path("trade-in/basket/<int:position>/edit/", views.basket_edit, name="basket_edit"),
    path("trade-in/business/", business.business_upload, name="business"),
    path("trade-in/business/review/", business.business_review, name="business_review"),
    path("trade-in/business/template.csv", business.business_template, name="business_template"),
    path("counter/", counter.counter_code, name="counter_code"),
    path("counter/<str:code>/", counter.counter_offer, name="counter_offer"),
    path("trade-in/zip/", zip_lookup.zip_lookup, name="zip_lookup"),
    path("trade-in/thanks/<str:token>/", views.confirmation, name="confirmation"),
    path("trade-in/status/<str:token>/", views.status, name="status"),
    path("trade-in/label/<str:token>/", views.label_pdf, name="label"),
    path(
        "trade-in/orders/<str:reference>/receipt/<str:token>/",
        views.order_receipt,
        name="order_receipt",
    ),
    path("trade-in/identity/<str:token>/", views.identity_page, name="identity"),
    path("trade-in/offer/<str:token>/", views.quote, name="quote"),
    path("trade-in/offers/<str:token>/", order_offers.order_offer, name="order_offer"),
    path(
        "trade-in/offers/<str:token>/answer/",
        order_offers.order_offer_answer,
        name="order_offer_answer",
    ),
    path("trade-in/offer/<str:token>/accept/", views.quote_accept, name="quote_accept"),
    path("trade-in/offer/<str:token>/decline/", views.quote_decline, name="quote_decline"),
    path(
        "trade-in/revised-offer/<str:token>/",
        revised_offers.revised_offer,
        name="revised_offer",
    ),
    path(
        "trade-in/revised-offer/<str:token>/accept/",
        revised_offers.revised_offer_accept,
        name="revised_offer_accept",
    ),
    path(
        "trade-in/revised-offer/<str:token>/return/",
        revised_offers.revised_offer_return,
        name="revised_offer_return",
    ),
    path(
        "trade-in/revised-offer/<str:token>/photos/<int:photo_id>/",
        revised_offers.revised_offer_photo,
        name="revised_offer_photo",
    ),
    path("trade-in/payout-setup/<str:token>/", views.payout_setup, name="payout_setup"),
    path(
        "trade-in/payout-setup/<str:token>/done/", views.payout_setup_done, name="payout_setup_done"
    ),
    path(
        "trade-in/payout-setup/<str:token>/demo/", views.payout_setup_demo, name="payout_setup_demo"
    ),
]
