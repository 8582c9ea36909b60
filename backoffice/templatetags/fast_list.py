"""A changelist table rendered in one pass, for the pages staff keep open all day.

Unfold renders each cell through its own templates and rebuilds the column headers for every
cell (50 rows x 9 columns), which made the trade-ins queue the slowest page in the back
office. Here each cell comes from the ModelAdmin's own list_display (its methods, their
`label` colours, or the model field), built once in Python and rendered by one small
template with Unfold's classes.
"""

from __future__ import annotations

from django import template
from django.contrib.admin.views.main import ChangeList
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

# Unfold's headers, not Django's: Unfold's actions.js (which replaces Django's) finds the
# "select all" box by its class, .action-toggle, which only Unfold's header gives it. With
# Django's header the script threw on load and ticking a row said "0 of N selected".
from unfold.templatetags.unfold_list import result_headers

from backoffice.display import choice_label
from workflows import formatting

register = template.Library()

LABEL_CLASSES = {
    "info": "bg-blue-100 text-blue-700 dark:bg-blue-500/20 dark:text-blue-400",
    "danger": "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
    "warning": "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400",
    "success": "bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400",
    "primary": "bg-primary-100 text-primary-700 dark:bg-primary-500/20 dark:text-primary-400",
}


def _column(model_admin, name: str):
    """A function of one object giving (text, label classes or '') for that column."""
    method = getattr(model_admin, name, None)
    if callable(method):
        colours = getattr(method, "label", None)
        if isinstance(colours, dict):

            def label(obj):
                key, text = method(obj)
                return text, LABEL_CLASSES.get(colours.get(key), "")

            return label
        return lambda obj: (method(obj), "")
    field = model_admin.model._meta.get_field(name)
    if field.choices:
        return lambda obj: (choice_label(obj, name), "")
    if formatting.is_money_field(field):
        return lambda obj: (formatting.money(getattr(obj, name)), "")
    return lambda obj: (getattr(obj, name), "")


CELL = "align-middle border-t border-base-200 px-3 py-2 dark:border-base-800"
LABEL = (
    "inline-block font-semibold rounded-default text-[11px] uppercase whitespace-nowrap "
    "h-6 leading-6 px-2"
)


def _cell(text: object, label: str) -> str:
    # f-strings over our own constant classes; only the cell's text is escaped (50 rows x 10
    # cells of format_html were a fifth of the page).
    text = "-" if text is None else conditional_escape(text)
    if label:
        return f'<td class="{CELL}"><span class="{LABEL} {label}">{text}</span></td>'
    return f'<td class="{CELL}">{text}</td>'


def _row(url: str, cells: list[tuple[object, str]], checkbox: str = "") -> str:
    (first, _label), *rest = cells
    row = (
        f'<th scope="row" class="{CELL} font-normal text-left whitespace-nowrap">'
        f'<a href="{escape(url)}" class="text-primary-600 dark:text-primary-500 font-medium">'
        f"{conditional_escape(first)}</a></th>"
    )
    if checkbox:  # the selection box for the bulk actions comes before the linked column
        row = f'<td class="{CELL} w-10">{checkbox}</td>{row}'
    return mark_safe(row + "".join(_cell(text, label) for text, label in rest))


class _Placeholder:
    pk = id = "pkplaceholder"  # letters only: admin quote() leaves it as it is

    def __str__(self) -> str:
        return self.pk


@register.inclusion_tag("backoffice/fast_results.html")
def fast_results(cl: ChangeList) -> dict:
    names = list(cl.list_display)
    selectable = names[:1] == ["action_checkbox"]
    columns = [_column(cl.model_admin, name) for name in names[selectable:]]
    preserved = f"?{cl.preserved_filters}" if cl.preserved_filters else ""
    # The bulk actions' selection box, rendered through its widget template once, not per row
    # (50 widget renders were a fifth of the page's time). Primary keys are integers.
    box = cl.model_admin.action_checkbox(_Placeholder()) if selectable else ""
    # One URL reversed for the page, the primary key put in per row (integers).
    url = cl.url_for_result(_Placeholder())
    rows = [
        _row(
            url.replace(_Placeholder.pk, str(int(obj.pk))) + preserved,
            [column(obj) for column in columns],
            mark_safe(box.replace(_Placeholder.pk, str(int(obj.pk)))) if box else "",
        )
        for obj in cl.result_list
    ]
    return {"headers": list(result_headers(cl)), "rows": rows, "cl": cl, "opts": cl.opts}
