"""registry.badges: the badges and filter options the templates show,
rendered in Python (the HTML the former macros gave), cached only by
what they show (locale and value; the options' own content)."""

from registry import badges
from sigap.i18n import use_locale


def test_badges_show_the_translated_label_and_class():
    with use_locale("en"):
        assert badges.status_badge("registered") == '<span class="badge badge-ok">Registered</span>'
        assert badges.status_badge("nonsense") == '<span class="badge badge-muted">nonsense</span>'
        assert badges.accreditation_badge("accredited", "B") == '<span class="badge badge-ok">Accredited (B)</span>'
        assert badges.accreditation_badge("in_process", "B") == '<span class="badge badge-warn">Accreditation in process</span>'
        assert badges.risk_badge("high") == '<span class="badge badge-danger">High risk</span>'
        assert badges.risk_badge(None) == "" and badges.incident_badge(False) == ""
        assert badges.incident_badge(True) == '<span class="badge badge-danger badge-strong">Open incident</span>'
        assert badges.doc_state("pending") == '<span class="badge badge-warn">Awaiting verification</span>'
    with use_locale("id"):  # the same value in another language: not the English badge
        assert badges.status_badge("registered") == '<span class="badge badge-ok">Terdaftar</span>'


def test_badges_escape_what_they_show():
    assert badges.status_badge("<b>") == '<span class="badge badge-muted">&lt;b&gt;</span>'
    assert "&lt;x&gt;" in badges.accreditation_badge("accredited", "<x>")


def test_options_mark_the_selected_one_and_follow_their_rows():
    rows = [{"code": "1", "name": "Ana", "parent_code": "9"}, {"code": "2", "name": "B&B", "parent_code": "9"}]
    assert badges.region_options(rows, "2", parent=True) == (
        '<option value="1" data-parent="9">Ana</option><option value="2" data-parent="9" selected>B&amp;B</option>'
    )
    assert badges.region_options(rows, "") == '<option value="1">Ana</option><option value="2">B&amp;B</option>'
    # A renamed region (another list) shows its new name: the cache is keyed by content.
    renamed = [dict(rows[0], name="Anna"), rows[1]]
    assert 'value="1">Anna<' in badges.region_options(renamed, "")
    assert badges.choice_options([("a", "<A>"), ("b", "B")], "a") == (
        '<option value="a" selected>&lt;A&gt;</option><option value="b">B</option>'
    )
    assert badges.choice_options([("a", "A")], ["unhashable"]) == '<option value="a">A</option>'
