from __future__ import annotations

import re
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from barnstorm.donations.models import DonationPage, Frequency
from barnstorm.donations.services import DonorInput

BEST_EFFORTS = _(
    "Federal law requires us to use our best efforts to collect and report the name, mailing address, "
    "occupation and name of employer of individuals whose contributions exceed $200 in an election cycle."
)
ATTESTATIONS = [
    _(
        "This contribution is made from my own funds, and funds are not being provided to me "
        "by another person or entity."
    ),
    _("I am a U.S. citizen or lawfully admitted permanent resident (i.e., green card holder)."),
    _("I am not a federal contractor."),
    _("I am at least eighteen years old."),
    _("This contribution is not made on a corporate or business credit card, or on a card issued to another person."),
]


def dollars_to_cents(value: str) -> int | None:
    """'27', '$27.50', '1,000' -> cents; None for anything that is not an amount of money."""
    cleaned = re.sub(r"[\s$,]", "", value or "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        return None
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class DonorFieldsForm(forms.Form):
    given_name = forms.CharField(
        label=_("First name"), max_length=128, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    family_name = forms.CharField(
        label=_("Last name"), max_length=128, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    street1 = forms.CharField(
        label=_("Street address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    street2 = forms.CharField(
        label=_("Apt, suite (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    state = forms.RegexField(
        label=_("State"),
        regex=r"^[A-Za-z]{2}$",
        max_length=2,
        error_messages={"invalid": _("Use the two-letter state code, such as IA.")},
        widget=forms.TextInput(attrs={"autocomplete": "address-level1", "size": 3}),
    )
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    employer = forms.CharField(
        label=_("Employer"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    occupation = forms.CharField(
        label=_("Occupation"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )

    def donor(self) -> DonorInput:
        data = self.cleaned_data
        return DonorInput(
            given_name=data["given_name"],
            family_name=data["family_name"],
            email=data["email"],
            phone=data.get("phone", ""),
            street1=data["street1"],
            street2=data.get("street2", ""),
            city=data["city"],
            state=data["state"].upper(),
            zip_code=data["zip_code"],
            employer=data.get("employer", ""),
            occupation=data.get("occupation", ""),
        )


class DonationForm(DonorFieldsForm):
    amount = forms.CharField(label=_("Amount"), required=False)
    other_amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "$"}),
    )
    frequency = forms.ChoiceField(
        label=_("How often"), choices=Frequency.choices, initial=Frequency.ONE_TIME, widget=forms.RadioSelect
    )
    attest = forms.BooleanField(
        label=_("I confirm that the statements above are true."),
        error_messages={"required": _("Please confirm the statements to give.")},
    )
    card_number = forms.CharField(
        label=_("Card number"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    card_expiry = forms.CharField(
        label=_("Expires (MM/YY)"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    card_cvc = forms.CharField(
        label=_("CVC"),
        required=False,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}),
    )
    # A processor's one-time token made in the browser (Stripe Elements); the card then never reaches us.
    payment_token = forms.CharField(required=False, widget=forms.HiddenInput)
    pay_with = forms.ChoiceField(
        choices=[("card", _("Card")), ("paypal", "PayPal")], initial="card", required=False, widget=forms.RadioSelect
    )
    save_method = forms.BooleanField(label=_("Save my card for one-click express giving"), required=False)
    refcode = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    refcode2 = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    # One per rendering of the form: the idempotency key of this donation attempt.
    attempt = forms.CharField(max_length=64, widget=forms.HiddenInput)
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, page: DonationPage, paypal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        self.paypal = paypal
        offered = page.frequencies or [Frequency.ONE_TIME]
        self.fields["frequency"].choices = [(v, label) for v, label in Frequency.choices if v in offered]
        if not paypal:
            self.fields["pay_with"].choices = [("card", _("Card"))]
        if not self.is_bound:
            self.initial.setdefault("attempt", secrets.token_urlsafe(24))

    def clean(self):
        data = super().clean()
        cents = dollars_to_cents(data.get("other_amount", "")) if data.get("other_amount") else None
        if data.get("other_amount") and cents is None:
            self.add_error("other_amount", _("Enter an amount in dollars, such as 27 or 27.50."))
            return data
        if cents is None:
            cents = dollars_to_cents(data.get("amount", ""))
        if cents is None:
            self.add_error("amount", _("Choose an amount or enter another."))
            return data
        page = self.page
        if cents < page.min_amount_cents:
            self.add_error(
                "other_amount", _("The minimum is $%(min)s.") % {"min": f"{page.min_amount_cents / 100:,.2f}"}
            )
        elif cents > page.max_amount_cents:
            self.add_error(
                "other_amount",
                _("The maximum on this page is $%(max)s.") % {"max": f"{page.max_amount_cents / 100:,.2f}"},
            )
        data["amount_cents"] = cents
        if data.get("pay_with") == "paypal" and data.get("frequency", Frequency.ONE_TIME) != Frequency.ONE_TIME:
            self.add_error("pay_with", _("Recurring gifts need a card; PayPal gives once."))
        if data.get("pay_with", "card") in ("", "card") and not data.get("payment_token"):
            number = re.sub(r"[\s-]", "", data.get("card_number", ""))
            if not number.isdigit() or not 12 <= len(number) <= 19:
                self.add_error("card_number", _("Enter the card number."))
            if not re.fullmatch(r"\s*(0[1-9]|1[0-2])\s*/\s*(\d{2}|\d{4})\s*", data.get("card_expiry", "")):
                self.add_error("card_expiry", _("Enter the expiry as MM/YY."))
            if not re.fullmatch(r"\d{3,4}", data.get("card_cvc", "")):
                self.add_error("card_cvc", _("Enter the 3 or 4 digits on the back of the card."))
            data["card_token"] = "tok_" + number
        return data


class ExpressForm(forms.Form):
    attempt = forms.CharField(max_length=64, widget=forms.HiddenInput)
    amount = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("attempt", secrets.token_urlsafe(24))


class RecurringChangeForm(forms.Form):
    amount = forms.CharField(label=_("New amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def clean_amount(self) -> int:
        cents = dollars_to_cents(self.cleaned_data["amount"])
        if cents is None or cents < 100:
            raise forms.ValidationError(_("Enter an amount of at least $1."))
        return cents
