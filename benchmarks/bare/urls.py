"""Two bare views on the member table, the anchors of the serve suite: what Django, its
middleware and the database give without unionaid's own work (token, rights, scope, masking,
read log, schemas). Benchmark-only; never mounted in the product."""

from django.http import Http404, JsonResponse
from django.urls import path

from unionaid.members.models import Member

FIELDS = ("id", "name", "sex", "org_unit_id", "employment_form", "membership_status")
PAGE = 50  # as the API's default page


def member_by_id(request, pk: int):
    try:
        return JsonResponse(Member.objects.values(*FIELDS).get(pk=pk))
    except Member.DoesNotExist:
        raise Http404 from None


def name_search(request):
    q = request.GET.get("q", "")
    rows = list(Member.objects.filter(name__startswith=q).order_by("name", "pk")
                .values(*FIELDS)[:PAGE])
    return JsonResponse({"items": rows})


urlpatterns = [
    path("bare/members/<int:pk>", member_by_id),
    path("bare/members", name_search),
]
