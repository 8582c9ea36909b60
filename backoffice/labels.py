"""Unit labels as a PDF: from a unit's page, the units list (bulk) and the intake bench."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from workflows.documents.labels import unit_labels_pdf
from workflows.models import Unit

MAX_LABELS = 500


def labels_response(units) -> HttpResponse:
    units = list(units)
    name = f"unit-{units[0].pk}-label.pdf" if len(units) == 1 else f"unit-labels-{len(units)}.pdf"
    response = HttpResponse(unit_labels_pdf(units), content_type="application/pdf")
    # Inline: the browser's PDF viewer opens it, ready for the label printer.
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def unit_labels(request: HttpRequest) -> HttpResponse:
    """GET ?unit=<id>&unit=<id>…: one label per unit, in the order asked."""
    if not request.user.has_perm("workflows.view_unit"):
        raise PermissionDenied
    ids = [int(v) for v in request.GET.getlist("unit")[:MAX_LABELS] if v.isdigit() and len(v) < 16]
    found = Unit.objects.select_related("product__device_model__make", "trade_in").in_bulk(ids)
    units = [found[i] for i in ids if i in found]
    if not units:
        raise Http404("No such unit.")
    return labels_response(units)
