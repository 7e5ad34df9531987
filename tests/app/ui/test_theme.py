"""The window's theme is applied once per application."""

from app.ui.theme import apply_theme


def test_the_theme_is_applied_once_per_application(qapp):
    apply_theme(qapp)
    style = qapp.style()
    apply_theme(qapp)  # again (each window and each test fixture asks): no new style, no re-polish
    assert qapp.style() is style
