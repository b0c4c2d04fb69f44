"""The audit of erasures and purges (read-only), and the customer list's erase action."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from privacy.models import CustomerErasure, RetentionPurge
from privacy.services.erasure import customer_erase
from tickets.models import Customer

ERASE_PERMISSION = "privacy.add_customererasure"


class ReadOnlyAdmin(admin.ModelAdmin):
    """An audit trail is written by the services only."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerErasure)
class CustomerErasureAdmin(ReadOnlyAdmin):
    list_display = ["at", "customer_id", "requested_by"]
    search_fields = ["customer_id"]
    readonly_fields = ["customer_id", "requested_by", "at", "removed"]


@admin.register(RetentionPurge)
class RetentionPurgeAdmin(ReadOnlyAdmin):
    list_display = ["at", "removed", "failed"]
    readonly_fields = ["at", "cutoffs", "removed", "failed"]


@admin.action(description=_("Erase personal data (on the customer's request)"))
def erase_customers(modeladmin, request, queryset):
    """Asks for confirmation on a page of its own, then erases each selected customer."""
    if not request.user.has_perm(ERASE_PERMISSION):
        modeladmin.message_user(
            request, _("You may not erase customers' data."), level=messages.ERROR
        )
        return None
    if request.POST.get("confirm") == "yes":
        erased = 0
        for pk in queryset.values_list("pk", flat=True):
            customer_erase(customer_id=pk, actor=request.user)
            erased += 1
        modeladmin.message_user(
            request,
            ngettext(
                "Erased the personal data of %(count)d customer.",
                "Erased the personal data of %(count)d customers.",
                erased,
            )
            % {"count": erased},
            level=messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Erase personal data?"),
        "customers": list(queryset),
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_name": "erase_customers",
    }
    return TemplateResponse(request, "admin/privacy/erase_confirm.html", context)


# The customer list is tickets' admin; data protection adds its action to it from here, the
# floor above (tickets cannot import privacy).
_customer_admin = admin.site.get_model_admin(Customer)
_customer_admin.actions = [*(_customer_admin.actions or ()), erase_customers]
