"""Marks requests that htmx sends for a fragment, so a view can answer with a partial."""

from django.utils.cache import patch_vary_headers


class HtmxMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.htmx_partial = (
            request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Boosted") != "true"
            and request.headers.get("HX-History-Restore-Request") != "true"
        )
        response = self.get_response(request)
        patch_vary_headers(response, ["HX-Request"])
        return response
