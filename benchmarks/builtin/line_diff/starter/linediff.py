"""Line-based diff, patch and unified output."""


def diff(a, b):
    raise NotImplementedError


def patch(a, script):
    raise NotImplementedError


def unified(a, b, context=3):
    raise NotImplementedError
