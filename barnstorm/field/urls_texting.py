"""Field URLs: peer-to-peer texting (mounted under "field/"; names are "field:texting_…")."""

from django.urls import path

from barnstorm.field import views_texting as views

urlpatterns = [
    path("<int:campaign_id>/texts/", views.texting_home, name="texting_home"),
    path("<int:campaign_id>/texts/more/", views.texting_more, name="texting_more"),
    path("<int:campaign_id>/texts/<int:contact_id>/", views.texting_conversation, name="texting_conversation"),
    path("<int:campaign_id>/texts/<int:contact_id>/send/", views.texting_send, name="texting_send"),
    path("<int:campaign_id>/texts/<int:contact_id>/thread/", views.texting_thread, name="texting_thread"),
    path("<int:campaign_id>/texts/<int:contact_id>/reply/", views.texting_reply, name="texting_reply"),
    path("<int:campaign_id>/texts/<int:contact_id>/opt-out/", views.texting_opt_out, name="texting_opt_out"),
    path("<int:campaign_id>/texts/<int:contact_id>/record/", views.texting_record, name="texting_record"),
    # The SMS provider's webhook (Twilio's inbound and status callback URL): /field/sms/inbound/
    path("sms/inbound/", views.texting_inbound, name="texting_inbound"),
]
