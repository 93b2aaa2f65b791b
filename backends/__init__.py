"""Platform packages. Each exposes ``TARGETS`` and ``EMITTERS``; adding a platform means
adding its folder and its name here, once its tests pass."""

PLATFORMS: tuple[str, ...] = ("sigma", "elastic", "aws", "splunk")
