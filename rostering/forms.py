"""The shape of what admins type on the Rostering pages; meaning is checked by services."""

from django import forms

from rostering.models import ActivationEmails, Auth, ConnectionKind, Schedule, Version


class ConnectionForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        label="Name",
        error_messages={"required": "Enter a name for this connection, e.g. the SIS's name"},
    )
    kind = forms.ChoiceField(
        choices=ConnectionKind.choices,
        label="How the roster arrives",
        error_messages={"required": "Choose how the roster arrives"},
    )
    version = forms.ChoiceField(
        choices=Version.choices, label="OneRoster version", initial=Version.V1_1
    )
    url = forms.URLField(max_length=500, required=False, label="Address", assume_scheme="https")
    auth = forms.ChoiceField(choices=Auth.choices, label="Sign-in method", initial=Auth.OAUTH2)
    token_url = forms.URLField(
        max_length=500, required=False, label="Token address", assume_scheme="https"
    )
    client_id = forms.CharField(max_length=255, required=False, label="Client id (key)")
    secret = forms.CharField(
        max_length=500, required=False, label="Client secret", widget=forms.PasswordInput
    )
    schedule = forms.ChoiceField(
        choices=Schedule.choices, label="When it syncs", initial=Schedule.DAILY
    )
    daily_at = forms.TimeField(label="Time of the daily sync", initial="02:00", required=False)
    threshold_pct = forms.IntegerField(
        min_value=1, max_value=100, initial=10, label="Hold a sync for approval above (%)"
    )
    activation_emails = forms.ChoiceField(
        choices=ActivationEmails.choices,
        initial=ActivationEmails.HOLD,
        label="Activation emails for new accounts",
    )

    def clean_daily_at(self):
        return self.cleaned_data.get("daily_at") or "02:00"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="OneRoster CSV bundle (.zip)",
        error_messages={"required": "Choose the OneRoster CSV bundle (.zip) to upload"},
    )
    dry_run = forms.BooleanField(
        required=False, label="Dry run: show what would change, change nothing"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".zip"):
            raise forms.ValidationError(
                "Choose the .zip your SIS exported: a OneRoster bundle is a zip of CSV files "
                "with manifest.csv."
            )
        return upload
