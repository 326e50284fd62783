// A stand-in for https://js.stripe.com/v3/ in browser tests, which may not reach the network.
// It offers the calls the donation page makes: Stripe(key).elements().create("card").mount(),
// card.on("change"), stripe.createPaymentMethod(). The card field is one text box; the methods it
// "makes" are Stripe's test PaymentMethods, which the local Stripe API stub charges.
window.Stripe = function (key) {
  var input;
  var methods = { "4242424242424242": "pm_card_visa", "4000000000000002": "pm_card_chargeDeclined" };
  window.stripeStubCalls = { key: key, billing: [] };
  return {
    elements: function () {
      return {
        create: function (type) {
          return {
            mount: function (selector) {
              input = document.createElement("input"); // no name: the number is never posted
              input.setAttribute("aria-label", "Card number");
              document.querySelector(selector).appendChild(input);
            },
            on: function () {},
          };
        },
      };
    },
    createPaymentMethod: function (options) {
      window.stripeStubCalls.billing.push(options.billing_details);
      var id = methods[input.value.replace(/\s/g, "")];
      return Promise.resolve(id ? { paymentMethod: { id: id } } : { error: { message: "Your card number is incomplete." } });
    },
  };
};
