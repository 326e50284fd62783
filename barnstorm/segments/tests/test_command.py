"""`barnstorm segment_count QUERY.json` prints the count, and refuses bad input clearly."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def _write(tmp_path, text):
    path = tmp_path / "query.json"
    path.write_text(text)
    return str(path)


def test_it_prints_the_count(world, expected, tmp_path, capsys):
    query = {"and": [{"type": "state", "state": "IA"}, {"not": {"type": "donated"}}]}
    call_command("segment_count", _write(tmp_path, json.dumps(query)))
    assert capsys.readouterr().out.strip() == str(len(expected(query)))


def test_invalid_json_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"not valid JSON \(line 1, column"):
        call_command("segment_count", _write(tmp_path, '{"type": '))


def test_an_invalid_query_names_the_bad_part(db, tmp_path):
    with pytest.raises(CommandError, match=r"and\[1\]\.miles: is required"):
        call_command(
            "segment_count",
            _write(tmp_path, json.dumps({"and": [{"type": "sms_consent"}, {"type": "near_zip", "zip": "50309"}]})),
        )


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("segment_count", str(tmp_path / "nope.json"))


def test_it_exits_non_zero_from_the_command_line(db, tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    path = _write(tmp_path, "[]")
    done = subprocess.run(
        [sys.executable, "-m", "django", "segment_count", path],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "barnstorm.settings_for_tests"},
        cwd=settings.BASE_DIR.parent if hasattr(settings, "BASE_DIR") else None,
    )
    assert done.returncode != 0
    assert "query: must be an object" in done.stderr
