from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .roles import role_names


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html", {"roles": role_names(request.user)})
