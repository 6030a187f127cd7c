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


class PersonForm(forms.Form):
    """Create or edit a member of staff or a student. Choices come from the admin's reach:
    a school admin sees only their schools and cannot make district admins."""

    first_name = forms.CharField(
        label="First name", max_length=100, error_messages={"required": "Enter a first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=100, error_messages={"required": "Enter a last name"}
    )
    email = forms.CharField(label="Email address", max_length=254, required=False)
    username = forms.CharField(label="Username (optional)", max_length=150, required=False)
    role = forms.ChoiceField(
        label="Role",
        error_messages={"required": "Select a role", "invalid_choice": "Select a role"},
    )
    schools = forms.MultipleChoiceField(
        label="Schools",
        required=False,
        error_messages={"invalid_choice": "Select schools from the list"},
    )
    year_group = forms.ChoiceField(
        label="Year group",
        required=False,
        error_messages={"invalid_choice": "Select a year group from the list"},
    )
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, kind: str, schools, year_groups, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.school_objects = {str(s.pk): s for s in schools}
        self.year_group_objects = {str(y.pk): y for y in year_groups}
        self.fields["schools"].choices = [(str(s.pk), s.name) for s in schools]
        self.fields["year_group"].choices = [("", "None")] + [
            (str(y.pk), y.name) for y in year_groups
        ]
        self.fields["role"].choices = roles
        if kind == "students":
            self.fields["role"].required = False
            self.fields[
                "year_group"
            ].label = f"{year_groups[0].district.get_terminology_display() if year_groups else 'Year'} group"
        if len(schools) == 1:
            self.fields["schools"].initial = [str(schools[0].pk)]

    def clean_email(self):
        """The format is checked here so that it is reported with the other field errors;
        uniqueness in the district is the service's rule."""
        from django.core.validators import validate_email

        email = self.cleaned_data["email"].strip()
        if email:
            try:
                validate_email(email)
            except forms.ValidationError:
                raise forms.ValidationError(
                    "Enter an email address in the correct format, like name@school.org"
                ) from None
        return email

    def clean_schools(self):
        chosen = [self.school_objects[pk] for pk in self.cleaned_data["schools"]]
        if not chosen:
            raise forms.ValidationError("Select at least one school")
        return chosen

    def clean_year_group(self):
        value = self.cleaned_data["year_group"]
        return self.year_group_objects.get(value) if value else None


class PasswordChoiceForm(forms.Form):
    """How a student gets a password, and a typed one if the admin types it."""

    MODES = [
        ("self", "The student sets it: we email them an activation link"),
        ("staff", "A teacher sets it: no email needed"),
    ]
    SOURCES = [("generate", "Generate a password"), ("type", "Type a password")]

    password_mode = forms.ChoiceField(
        label="Password",
        choices=MODES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the student gets a password"},
    )
    password_source = forms.ChoiceField(
        label="Password to use", choices=SOURCES, widget=forms.RadioSelect, required=False
    )
    password = forms.CharField(label="Password", strip=False, max_length=4096, required=False)

    def clean(self):
        data = super().clean()
        if data.get("password_mode") == "staff":
            if data.get("password_source") not in ("generate", "type"):
                self.add_error("password_source", "Select whether to generate or type a password")
            elif data.get("password_source") == "type" and not data.get("password"):
                self.add_error("password", "Enter the password, or choose to generate one")
        return data


class SetPasswordForm(forms.Form):
    password_source = forms.ChoiceField(
        label="New password",
        choices=PasswordChoiceForm.SOURCES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to generate or type a password"},
    )
    password = forms.CharField(label="Password", strip=False, max_length=4096, required=False)

    def clean(self):
        data = super().clean()
        if data.get("password_source") == "type" and not data.get("password"):
            self.add_error("password", "Enter the password, or choose to generate one")
        return data


class CaseManagerForm(forms.Form):
    case_manager = forms.CharField(required=False)
