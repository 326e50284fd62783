from django import forms
from django.utils.translation import gettext_lazy as _

from barnstorm.people.models import GroupRole
from barnstorm.people.services import AddressInput, PersonInput


def add_service_errors(form: forms.Form, error) -> None:
    """Show a ValidationError from a service on the fields it names; the rest above the form."""
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


class PersonFieldsForm(forms.Form):
    """The fields a person gives about themselves; turns into a PersonInput for person_upsert."""

    given_name = forms.CharField(label=_("First name"), max_length=128)
    family_name = forms.CharField(label=_("Last name"), max_length=128)
    email = forms.CharField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    sms_consent = forms.BooleanField(
        label=_("Text me campaign updates. Message and data rates may apply; reply STOP to opt out."),
        required=False,
    )

    def to_input(self, **extra) -> PersonInput:
        data = self.cleaned_data
        return PersonInput(
            email=data["email"],
            phone=data.get("phone", ""),
            phone_kind="mobile",
            sms_consent=True if data.get("sms_consent") and data.get("phone") else None,
            given_name=data["given_name"],
            family_name=data["family_name"],
            address=AddressInput(zip_code=data["zip_code"]),
            **extra,
        )


class SignupForm(PersonFieldsForm):
    # A field people never see; bots fill every field they find.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))


class StaffPersonForm(PersonFieldsForm):
    zip_code = forms.CharField(label=_("ZIP code"), max_length=10, required=False)
    employer = forms.CharField(label=_("Employer"), max_length=200, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=200, required=False)

    def to_input(self, **extra) -> PersonInput:
        data = super().to_input(**extra)
        data.employer, data.occupation = self.cleaned_data["employer"], self.cleaned_data["occupation"]
        if not self.cleaned_data["zip_code"]:
            data.address = None
        return data


class NameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class ListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MergeLookupForm(forms.Form):
    other = forms.CharField(label=_("Duplicate's email address or person number"), max_length=254)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    zip_code = forms.CharField(label=_("ZIP code"), max_length=10, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class GroupMemberForm(forms.Form):
    email = forms.CharField(label=_("Their email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=GroupRole.choices, initial=GroupRole.MEMBER)
