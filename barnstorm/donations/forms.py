from __future__ import annotations

import re
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from barnstorm.donations.models import Committee, DonationPage, Frequency
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

    def __init__(self, *args, page: DonationPage, paypal: bool = False, card_fields: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        self.paypal = paypal
        self.card_fields = card_fields
        if not card_fields:  # the processor's script takes the card: a number posted here is never read
            for name in ("card_number", "card_expiry", "card_cvc"):
                del self.fields[name]
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
            if not self.card_fields:
                self.add_error(None, _("Enter your card details."))
                return data
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


# --- Staff: pages and committees ---------------------------------------------------------------


class DonationPageForm(forms.ModelForm):
    """A page as staff configure it: amounts in dollars, the recipients' shares in percent."""

    suggested = forms.CharField(
        label=_("Suggested amounts"),
        help_text=_("Up to seven, in dollars, separated by commas: 10, 27, 50, 100"),
        required=False,
    )
    highlighted = forms.CharField(label=_("Highlighted amount"), required=False)
    minimum = forms.CharField(label=_("Minimum"), initial="1")
    maximum = forms.CharField(label=_("Maximum"), initial="7000")
    frequencies = forms.MultipleChoiceField(
        label=_("Frequencies offered"), choices=Frequency.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = DonationPage
        fields = ["slug", "title", "body", "image", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        page = self.instance
        if page.pk:
            self.initial.update(
                suggested=", ".join(f"{c / 100:g}" for c in page.suggested_amounts_cents),
                highlighted=f"{page.highlighted_amount_cents / 100:g}" if page.highlighted_amount_cents else "",
                minimum=f"{page.min_amount_cents / 100:g}",
                maximum=f"{page.max_amount_cents / 100:g}",
                frequencies=page.frequencies,
            )
        else:
            self.initial.setdefault("frequencies", [Frequency.ONE_TIME, Frequency.MONTHLY])

    def clean_suggested(self) -> list[int]:
        raw = [part for part in self.cleaned_data["suggested"].split(",") if part.strip()]
        amounts = [dollars_to_cents(part) for part in raw]
        if any(a is None for a in amounts):
            raise forms.ValidationError(_("Write each amount in dollars, such as 27 or 27.50."))
        if len(amounts) > 7:
            raise forms.ValidationError(_("At most seven suggested amounts."))
        return amounts

    def _money(self, name: str, required: bool = True) -> int | None:
        raw = self.cleaned_data.get(name, "")
        if not raw and not required:
            return None
        cents = dollars_to_cents(raw)
        if cents is None:
            raise forms.ValidationError(_("Enter an amount in dollars."))
        return cents

    def clean_highlighted(self):
        return self._money("highlighted", required=False)

    def clean_minimum(self):
        return self._money("minimum")

    def clean_maximum(self):
        return self._money("maximum")

    def clean(self):
        data = super().clean()
        minimum, maximum = data.get("minimum"), data.get("maximum")
        if minimum and maximum and minimum > maximum:
            self.add_error("maximum", _("The maximum must be at least the minimum."))
        highlighted = data.get("highlighted")
        if highlighted and highlighted not in (data.get("suggested") or []):
            self.add_error("highlighted", _("The highlighted amount must be one of the suggested amounts."))
        return data

    def save(self, commit=True):
        page = super().save(commit=False)
        data = self.cleaned_data
        page.suggested_amounts_cents = data["suggested"]
        page.highlighted_amount_cents = data["highlighted"]
        page.min_amount_cents = data["minimum"]
        page.max_amount_cents = data["maximum"]
        page.frequencies = data["frequencies"]
        if commit:
            page.save()
        return page


class RecipientForm(forms.Form):
    committee = forms.ModelChoiceField(queryset=None, label=_("Committee"))
    percent = forms.DecimalField(label=_("Share (%)"), min_value=Decimal("0.01"), max_value=100, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = Committee.objects.all()


class BaseRecipientFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        rows = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not rows:
            raise forms.ValidationError(_("A page needs at least one recipient committee."))
        committees = [row["committee"].pk for row in rows]
        if len(set(committees)) != len(committees):
            raise forms.ValidationError(_("Each committee may appear once."))
        if sum(row["percent"] for row in rows) != 100:
            raise forms.ValidationError(_("The shares must add up to 100%."))

    def splits(self) -> list[tuple[int, int]]:
        """(committee id, basis points) in order."""
        rows = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        return [(row["committee"].pk, int(row["percent"] * 100)) for row in rows]


RecipientFormSet = forms.formset_factory(RecipientForm, formset=BaseRecipientFormSet, extra=2, can_delete=True)


class CommitteeForm(forms.ModelForm):
    class Meta:
        model = Committee
        fields = [
            "name", "fec_id", "candidate_name", "candidate_fec_id", "office", "office_state", "office_district",
            "report_form", "street1", "street2", "city", "state", "zip_code", "treasurer_given_name",
            "treasurer_family_name", "election_year", "primary_date", "over_limit_policy",
        ]  # fmt: skip
        widgets = {"primary_date": forms.DateInput(attrs={"type": "date"})}
