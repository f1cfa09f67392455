"""Waits behind a staff-only gate: a stalled server costs one operator's request on a diagnostics
page, so they are not reported; the same client in a public view is."""

from __future__ import annotations

import redis
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def system_status(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        return HttpResponseRedirect("/")
    client = redis.StrictRedis(host=settings.REDIS_HOST, port=6379)  # expect: pooling
    return JsonResponse({"keys": client.dbsize()})


@staff_member_required
def queue_lengths(request: HttpRequest) -> HttpResponse:
    client = redis.Redis(host=settings.REDIS_HOST)  # expect: pooling
    return JsonResponse({"celery": client.llen("celery")})


class RedisInfo(APIView):
    permission_classes = (IsAdminUser,)

    def get(self, request: Request) -> Response:
        return Response(redis.Redis(host=settings.REDIS_HOST).info())  # expect: pooling


def page_views(request: HttpRequest) -> HttpResponse:
    client = redis.Redis(host=settings.REDIS_HOST)  # expect: timeouts, pooling
    return JsonResponse({"views": client.incr(f"views:{request.path}")})
