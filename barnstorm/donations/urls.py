from django.urls import path

from barnstorm.donations import (
    paypal_flow,
    views,
    views_actblue,
    views_dashboard,
    views_fec,
    views_pages,
    views_staff,
    views_webhooks,
)

app_name = "donations"

urlpatterns = [
    path("donate/recurring/<str:token>/", views.recurring_manage, name="recurring_manage"),
    path("donate/<slug:slug>/", views.donate, name="donate"),
    path("donate/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("donate/<slug:slug>/express/", views.express, name="express"),
    path("donate/<slug:slug>/paypal/return/", paypal_flow.paypal_return, name="paypal_return"),
    path("fundraising/", views_dashboard.dashboard, name="dashboard"),
    path("fundraising/refcodes.csv", views_dashboard.refcodes_csv, name="dashboard_refcodes_csv"),
    path("fundraising/contributions/", views_staff.contribution_list, name="contributions"),
    path(
        "fundraising/contributions/<int:contribution_id>/", views_staff.contribution_detail, name="contribution_detail"
    ),
    path(
        "fundraising/contributions/<int:contribution_id>/refund/",
        views_staff.contribution_refund,
        name="contribution_refund",
    ),
    path("fundraising/pages/", views_pages.page_list, name="pages"),
    path("fundraising/pages/add/", views_pages.page_edit, name="page_add"),
    path("fundraising/pages/<int:page_id>/", views_pages.page_edit, name="page_edit"),
    path("fundraising/committees/add/", views_pages.committee_edit, name="committee_add"),
    path("fundraising/committees/<int:committee_id>/", views_pages.committee_edit, name="committee_edit"),
    path("fundraising/fec/", views_fec.fec_export, name="fec_export"),
    path("fundraising/checks/", views_staff.check_entry, name="check_entry"),
    path("fundraising/compliance/", views_staff.compliance_queue, name="compliance"),
    path("fundraising/compliance/<int:case_id>/resolve/", views_staff.compliance_resolve, name="compliance_resolve"),
    path("fundraising/import/actblue/", views_actblue.actblue_import, name="actblue_import"),
    path("fundraising/import/actblue/<uuid:token>/", views_actblue.actblue_import_result, name="actblue_import_result"),
    path(
        "fundraising/import/actblue/<uuid:token>/rejected.csv",
        views_actblue.actblue_import_rejects,
        name="actblue_import_rejects",
    ),
    path("webhooks/stripe/", views_webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/paypal/", views_webhooks.paypal_webhook, name="paypal_webhook"),
]
