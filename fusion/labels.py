"""The default gesture vocabulary (ARCHITECTURE.md, contract 3).

Directions are as the user sees themselves in the mirrored preview: ``swipe_left`` is a hand
that moves towards the left edge of the mirrored image, i.e. towards the user's own left.
"""

NO_GESTURE = "no_gesture"

STATIC_GESTURES = ("thumbs_up", "thumbs_down", "open_palm", "fist", "victory", "pointing_up")

DYNAMIC_GESTURES = (
    "swipe_left", "swipe_right", "swipe_up", "swipe_down",
    "push", "pull", "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out",
)

DEFAULT_LABELS = (NO_GESTURE,) + STATIC_GESTURES + DYNAMIC_GESTURES
