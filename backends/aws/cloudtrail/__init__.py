"""The EventBridge cell for AWS CloudTrail: CloudTrail events as EventBridge delivers them."""

from backends.aws.cloudtrail import pipeline, shaper, storage

__all__ = ["pipeline", "shaper", "storage"]
