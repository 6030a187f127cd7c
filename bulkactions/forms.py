"""Shapes of what admins send on the import pages; services judge meaning."""

from django import forms

from bulkactions.importing.parse import file_size_problem
from bulkactions.models import ImportKind, ImportMode, ImportPasswordMode


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label="Who is in the file?",
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select staff or students",
            "invalid_choice": "Select staff or students",
        },
    )
    password_mode = forms.ChoiceField(
        label="How do the students get a password?",
        choices=ImportPasswordMode.choices,
        initial=ImportPasswordMode.EMAIL,
        required=False,
        widget=forms.RadioSelect,
    )
    mode = forms.ChoiceField(
        label="What should the import do?",
        choices=ImportMode.choices,
        initial=ImportMode.CREATE,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the import should do"},
    )
    file = forms.FileField(
        label="Upload a file",
        error_messages={
            "required": "Select a CSV or Excel file",
            "empty": "The selected file is empty",
            "invalid": "Select a CSV or Excel file",
        },
    )

    def clean_password_mode(self):
        return self.cleaned_data.get("password_mode") or ImportPasswordMode.EMAIL

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")):
            raise forms.ValidationError("The selected file must be a CSV or an Excel (.xlsx) file")
        problem = file_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem)
        return upload
