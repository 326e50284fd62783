"""Staff pages for mailings (being written)."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


mailing_list = _todo
mailing_edit = _todo
mailing_detail = _todo
mailing_preview = _todo
mailing_test = _todo
mailing_schedule = _todo
mailing_unschedule = _todo
mailing_send_now = _todo
mailing_pause = _todo
mailing_resume = _todo
mailing_stop = _todo
mailing_progress = _todo
topic_list = _todo
