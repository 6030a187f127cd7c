"""Sign-in, sign-out, activation, password reset and change pages of a district."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import services
from accounts.backends import burn_hash
from accounts.forms import ForgotPasswordForm, LoginForm, PasswordChangeForm, PasswordCreateForm
from accounts.models import TokenPurpose
from accounts.tokens import TokenInvalid, token_check

LOGIN_FAILED = "The email address, username or password is not right. Check them and try again."
LOGIN_THROTTLED = (
    "Too many attempts to sign in have failed. Wait {minutes} minutes and try again, "
    "or reset your password."
)


def client_ip(request) -> str | None:
    # Behind one trusted proxy, the last address is the one it saw; earlier ones are
    # whatever the client claimed, and would let it dodge the per-address throttle.
    if settings.USE_X_FORWARDED_FOR and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def add_service_errors(form, error: ValidationError, default_field: str | None = None) -> None:
    """Puts a service's ValidationError beside the fields it names."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else default_field, field_errors)
    else:
        form.add_error(default_field, error.messages)


def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    if request.user.is_authenticated:
        return redirect(next_url or "schools:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"]
        password = form.cleaned_data["password"]
        ip = client_ip(request)
        if services.login_is_throttled(district=request.district, identifier=identifier, ip=ip):
            burn_hash(password)
            services.login_record(
                district=request.district, identifier=identifier, ip=ip, user=None
            )
            minutes = settings.LOGIN_THROTTLE["window_minutes"]
            form.add_error("identifier", LOGIN_THROTTLED.format(minutes=minutes))
        else:
            user = authenticate(request, username=identifier, password=password)
            services.login_record(
                district=request.district, identifier=identifier, ip=ip, user=user
            )
            if user is not None:
                login(request, user)
                return redirect(next_url or "schools:home")
            form.add_error("identifier", LOGIN_FAILED)
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=200)


@require_POST
def logout_view(request):
    logout(request)
    messages.success(request, "You have signed out.")
    return redirect("accounts:login")


def _invalid_link(request, error: TokenInvalid, purpose: str):
    status = 400 if error.reason == "unknown" else 410
    return render(
        request,
        "accounts/link_invalid.html",
        {"reason": error.reason, "purpose": purpose},
        status=status,
    )


def _token_page(request, raw: str, purpose: str, use, template: str, done_message: str, text):
    """The shared flow of activation and reset links: check, ask for a password, use."""
    try:
        token = token_check(district=request.district, raw=raw, purpose=purpose)
    except TokenInvalid as error:
        return _invalid_link(request, error, purpose)
    form = PasswordCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = use(
                district=request.district, raw_token=raw, password=form.cleaned_data["password"]
            )
        except TokenInvalid as error:
            return _invalid_link(request, error, purpose)
        except ValidationError as error:
            add_service_errors(form, error, "password")
        else:
            if request.user.is_authenticated:
                logout(request)
            login(request, user, backend="accounts.backends.DistrictBackend")
            messages.success(request, done_message)
            return redirect("schools:home")
    return render(
        request,
        template,
        {
            "form": form,
            "account": token.user,
            "min_length": str(request.district.password_min_length),
            **text,
        },
    )


def activate_view(request, token):
    return _token_page(
        request,
        token,
        TokenPurpose.ACTIVATE,
        services.user_activate,
        "accounts/activate.html",
        "Your account is active and you are signed in.",
        {
            "heading": "Create a password",
            "intro": f"Welcome to {request.district.name}. Create a password to activate your account.",
            "button": "Activate account",
        },
    )


def password_reset_view(request, token):
    return _token_page(
        request,
        token,
        TokenPurpose.RESET,
        services.password_reset,
        "accounts/password_reset.html",
        "Your password has been changed and you are signed in.",
        {
            "heading": "Choose a new password",
            "intro": "Choose a new password for your account.",
            "button": "Set new password",
        },
    )


def forgot_password_view(request):
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(
            district=request.district, identifier=form.cleaned_data["identifier"]
        )
        return redirect("accounts:forgot_password_sent")
    return render(request, "accounts/forgot_password.html", {"form": form})


def forgot_password_sent_view(request):
    return render(request, "accounts/forgot_password_sent.html")


@login_required
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as error:
            add_service_errors(form, error, "new_password")
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Your password has been changed.")
            return redirect("schools:home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "forced": request.user.must_change_password,
            "min_length": str(request.district.password_min_length),
        },
    )
