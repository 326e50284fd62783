// The donation page with Stripe: the card is typed into Stripe.js's field, which turns it into a
// PaymentMethod in the browser. The form then carries only that method's id (payment_token), and
// the server charges it. A card number never reaches Barnstorm.
(function () {
  "use strict";
  var form = document.querySelector("form.donate[data-stripe-key]");
  if (!form || typeof window.Stripe !== "function") return;
  var stripe = window.Stripe(form.dataset.stripeKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var token = form.querySelector("input[name=payment_token]");
  var button = form.querySelector("button[type=submit]");
  card.on("change", function (event) {
    errors.textContent = event.error ? event.error.message : "";
  });

  function value(name) {
    var field = form.elements[name];
    return field ? field.value.trim() : "";
  }

  form.addEventListener("submit", function (event) {
    var payWith = form.querySelector("input[name=pay_with]:checked") || form.elements.pay_with;
    if (payWith && payWith.value && payWith.value !== "card") return; // PayPal: no card to take
    event.preventDefault();
    if (button.disabled) return; // one method per press, however often it is pressed
    button.disabled = true;
    errors.textContent = "";
    stripe
      .createPaymentMethod({
        type: "card",
        card: card,
        billing_details: {
          name: (value("given_name") + " " + value("family_name")).trim(),
          email: value("email"),
          address: {
            line1: value("street1"),
            line2: value("street2"),
            city: value("city"),
            state: value("state"),
            postal_code: value("zip_code"),
            country: "US",
          },
        },
      })
      .then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message;
          button.disabled = false;
          return;
        }
        token.value = result.paymentMethod.id;
        form.submit(); // not a submit event: this handler does not run again
      });
  });
})();
