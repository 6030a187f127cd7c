"""Shapes of what people type on the sign-in and password pages; services judge meaning."""

from django import forms


class LoginForm(forms.Form):
    identifier = forms.CharField(
        label="Email address or username",
        max_length=254,
        error_messages={"required": "Enter your email address or username"},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=4096,
        error_messages={"required": "Enter your password"},
    )


class PasswordCreateForm(forms.Form):
    password = forms.CharField(
        label="Create a password",
        strip=False,
        max_length=4096,
        error_messages={"required": "Enter a password"},
    )


class ForgotPasswordForm(forms.Form):
    identifier = forms.CharField(
        label="Email address or username",
        max_length=254,
        error_messages={"required": "Enter your email address or username"},
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        max_length=4096,
        error_messages={"required": "Enter your current password"},
    )
    new_password = forms.CharField(
        label="New password",
        strip=False,
        max_length=4096,
        error_messages={"required": "Enter a new password"},
    )
