"""The Elastic cell for AWS CloudTrail: the AWS integration's ``cloudtrail`` data stream."""

from backends.elastic.cloudtrail import pipeline, shaper, storage

__all__ = ["pipeline", "shaper", "storage"]
