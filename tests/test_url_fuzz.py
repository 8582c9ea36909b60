"""Every URL the resolver knows, buyer and staff, fed garbage: never a 5xx.

The URLs come from the resolver itself, so a page added tomorrow is covered without touching
this file. Each parameter gets non-numeric, NUL, huge and odd-Unicode values as well as a real
object's id or a real signed link; each URL is fetched with hostile query strings and posted a
hostile form, anonymously and as the Admin role. Every answer must be below 500.
"""

from __future__ import annotations

import logging
from urllib.parse import quote as urlquote

import pytest
from django.apps import apps
from django.test import Client
from django.urls import get_resolver

from tests.helpers import staff_client
from workflows.links import quote_token, status_token
from workflows.models import State

HUGE = "9" * 40
PATH_VALUES = ["abc", "\x00", HUGE, "-1", "\u202e\u200b\U0001f4a9", "1 OR 1=1", "a" * 3000]
QUERIES = [
    {"q": "\x00", "imei": "\x00", "ref": "\x00", "make": "\x00", "model": "\x00", "o": "\x00"},
    {"q": HUGE * 100, "p": "abc", "page": HUGE, "o": "abc.-x", "id__exact": "abc", "all": "x"},
    {"status__exact": "\x00", "_changelist_filters": "q=%00&status__exact=%00", "e": "\x00"},
    {"created_at__range__gte": "abc", "settled_at__range__lte": "\x00", "make": HUGE},
    {"_to_field": "\x00", "_popup": "1", "next": "\x00", "imei": HUGE, "model": HUGE},
]
FORM = {
    # Every field name the app's forms use, each given something hostile.
    **{
        name: "\x00"
        for name in (
            "reason",
            "note",
            "notes",
            "override_reason",
            "check_number",
            "settlement_reference",
            "buyer_name",
            "buyer_email",
            "buyer_phone",
            "address_line1",
            "city",
            "postcode",
            "country",
            "username",
            "password",
            "q",
            "imei",
            "ref",
        )
    },
    "trade_in": "abc",
    "amount": HUGE,
    "valid_days": HUGE,
    "grade": "\x00",
    "resolution": "\x00",
    "check_date": "abc",
    "action": "\x00",
    "_selected_action": ["abc", "\x00", HUGE],
    "index": "abc",
    "select_across": "\x00",
    "format": "abc",
    "resource": "\x00",
    "storage": HUGE,
    "screen": "\x00",
    "product": HUGE,
    "make": "\x00",
    "model": "abc",
    "fulfilment": "\x00",
    "payout_method": "\x00",
    "submission_key": "\x00",
}
STEPS = ["quote", "decline", "cancel", "reroute", "rerun_check", "retry_label", "resolve", "reject"]


def url_templates() -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, %-format path, parameter names) for every named URL, namespaces included."""
    found: set[tuple[str, str, tuple[str, ...]]] = set()

    def walk(resolver, prefix: str, namespace: str) -> None:
        for key, entries in resolver.reverse_dict.lists():
            if not isinstance(key, str):
                continue
            for possibilities, _pattern, _defaults, _converters in entries:
                for fmt, params in possibilities:
                    found.add((namespace + key, "/" + prefix + fmt, tuple(params)))
        for name, (sub_prefix, sub) in resolver.namespace_dict.items():
            walk(sub, prefix + sub_prefix, f"{namespace}{name}:")

    walk(get_resolver(), "", "")
    return sorted(found)


def real_ids(name: str, trade_ins: list) -> list[str]:
    """Ids of real rows for an admin URL (admin:<app>_<model>_<view>), real links for buyers."""
    if name.startswith("buyer_portal:"):
        quoted = next(t for t in trade_ins if t.state == State.QUOTED)
        return [quote_token(quoted.latest_quote()), status_token(quoted)]
    if not name.startswith("admin:") or name.endswith("_delete"):
        return []  # deleting real rows (the signed-in user among them) would end the run
    for model in apps.get_models():
        label = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.removeprefix("admin:").startswith(label):
            return [str(pk) for pk in model._default_manager.values_list("pk", flat=True)[:2]]
    return []


def paths(name: str, fmt: str, params: tuple[str, ...], trade_ins: list) -> list[str]:
    if not params:
        return [fmt]
    values = [*PATH_VALUES, *real_ids(name, trade_ins)]
    out = []
    for value in values:
        filled = {param: urlquote(value, safe="") for param in params}
        if "step" in params:
            out += [fmt % {**filled, "step": step} for step in STEPS]
        out.append(fmt % filled)
    return out


@pytest.fixture
def world(make_trade_in):
    return [
        make_trade_in(State.QUOTED),
        make_trade_in(State.RECEIVED),
        make_trade_in(State.REROUTED, payout_method="store_credit"),
        make_trade_in(State.SUBMITTED, flagged=True),
    ]


def hit_everything(client: Client, templates, world, errors: list[str]) -> int:
    signed_in = "_auth_user_id" in client.session
    count = 0
    # The same garbage next to real catalog choices reaches deeper (a make's model search).
    product = world[0].product
    real = {"make": product.device_model.make.slug, "model": product.device_model.slug}
    queries = [
        *QUERIES,
        *({**query, "make": real["make"]} for query in QUERIES),
        *({**query, **real} for query in QUERIES),
    ]
    for name, fmt, params in templates:
        for path in paths(name, fmt, params, world):
            for query in queries:
                response = client.get(path, query)
                count += 1
                if response.status_code >= 500:
                    errors.append(f"GET {path} {query}: {response.status_code}")
            response = client.post(path, FORM)
            count += 1
            if response.status_code >= 500:
                errors.append(f"POST {path}: {response.status_code}")
        if signed_in and name != "admin:logout":
            # Still signed in, so the next URL is fuzzed past the login page too.
            assert "_auth_user_id" in client.session, f"signed out by {name}"
    return count


@pytest.fixture
def no_raise(client):
    """Let the handler turn exceptions into the 500 a visitor would get, and keep it quiet."""
    logging.getLogger("django.request").disabled = True
    yield
    logging.getLogger("django.request").disabled = False


def test_it_covers_every_buyer_and_staff_url():
    names = {name for name, _fmt, _params in url_templates()}
    assert {"buyer_portal:form", "buyer_portal:quote_decline", "buyer_portal:status"} <= names
    assert {"admin:workflows_tradein_workflow", "admin:intake_bench"} <= names
    assert "admin:django_q_schedule_change" in names
    assert len(names) > 100


# About 15,000 requests each: minutes of the run. They run once, in CI's PostgreSQL run.
@pytest.mark.postgres_only
def test_no_buyer_url_answers_garbage_with_a_5xx(world, no_raise):
    templates = [t for t in url_templates() if not t[1].startswith("/dashboard/")]
    client = Client(raise_request_exception=False)
    errors: list[str] = []
    assert hit_everything(client, templates, world, errors) > 100
    assert not errors, "\n".join(errors)


@pytest.mark.postgres_only
def test_no_staff_url_answers_garbage_with_a_5xx(world, admin_user, no_raise):
    # Signing out would turn the rest into login redirects: it is fuzzed last.
    templates = [t for t in url_templates() if t[1].startswith("/dashboard/")]
    templates.sort(key=lambda t: t[0] == "admin:logout")
    client = staff_client(admin_user)
    client.raise_request_exception = False
    errors: list[str] = []
    assert hit_everything(client, templates, world, errors) > 1000
    assert not errors, "\n".join(errors)
