from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from backoffice.twostep import has_app_device

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "email", "first_name", "last_name", "is_active", "last_login"]
    readonly_fields = ["two_step"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Two-step sign-in"), {"fields": ["two_step"]})]

    @admin.display(description=_("Two-step sign-in"))
    def two_step(self, user: User) -> str:
        """Set up or not, and the page where an admin issues an enrolment link or resets it."""
        return format_html(
            '{} · <a href="{}" class="text-primary-600 dark:text-primary-500 underline">{}</a>',
            _("Set up") if has_app_device(user) else _("Not set up"),
            reverse("admin:two_step_invite", args=[user.pk]),
            _("Reset it") if has_app_device(user) else _("Issue an enrolment link"),
        )


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


# django-otp's own device pages do not fit Unfold and would let an admin read a secret: each
# person enrols on their own account page; `manage.py two_step_reset NAME` starts one over.
for _model in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    if admin.site.is_registered(apps.get_model(_model)):
        admin.site.unregister(apps.get_model(_model))
