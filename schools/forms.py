"""The branding and account-policy settings form of a district."""

from django import forms

from schools.branding import validate_brand_colour
from schools.models import District


class BrandingForm(forms.Form):
    logo = forms.FileField(label="Logo (optional)", required=False)
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    brand_colour = forms.CharField(
        label="Brand colour",
        max_length=7,
        error_messages={"required": "Enter a brand colour, like #1d4f91"},
    )
    contact_line = forms.CharField(label="Contact line (optional)", required=False)
    terminology = forms.ChoiceField(
        label="Call year groups",
        choices=District.Terminology.choices,
        error_messages={"invalid_choice": "Select Year or Grade"},
    )
    username_pattern = forms.CharField(
        label="Username pattern",
        max_length=60,
        error_messages={"required": "Enter a username pattern, like {first}.{last}"},
    )
    password_min_length = forms.IntegerField(
        label="Shortest password allowed (characters)",
        error_messages={
            "required": "Enter the shortest password length, from 8 to 64",
            "invalid": "Enter the shortest password length as a number, like 10",
        },
    )
    students_exempt_from_password_change = forms.BooleanField(
        label="Students keep the password a teacher sets (no change at first sign-in)",
        required=False,
    )
    activation_days = forms.IntegerField(
        label="Activation links expire after (days)",
        error_messages={
            "required": "Enter how many days activation links last, from 1 to 30",
            "invalid": "Enter the number of days as a number, like 7",
        },
    )
    reset_hours = forms.IntegerField(
        label="Password reset links expire after (hours)",
        error_messages={
            "required": "Enter how many hours reset links last, from 1 to 72",
            "invalid": "Enter the number of hours as a number, like 24",
        },
    )

    reminder_after_days = forms.IntegerField(
        label="Remind people who have not activated after (days)",
        error_messages={
            "required": "Enter 0 to turn reminders off, or a number of days from 1 to 30",
            "invalid": "Enter the number of days as a number, like 3",
        },
    )

    def clean_reminder_after_days(self):
        return self._clean_range("reminder_after_days", 0, 30, "days (0 turns reminders off)")

    def clean_brand_colour(self):
        return validate_brand_colour(self.cleaned_data["brand_colour"])

    def _clean_range(self, name, low, high, unit):
        value = self.cleaned_data[name]
        if not low <= value <= high:
            raise forms.ValidationError(f"Enter a number of {unit} from {low} to {high}")
        return value

    def clean_password_min_length(self):
        return self._clean_range("password_min_length", 8, 64, "characters")

    def clean_activation_days(self):
        return self._clean_range("activation_days", 1, 30, "days")

    def clean_reset_hours(self):
        return self._clean_range("reset_hours", 1, 72, "hours")
