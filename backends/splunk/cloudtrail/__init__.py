"""The Splunk cell for AWS CloudTrail: the Splunk Add-on for AWS's ``aws:cloudtrail`` events."""

from backends.splunk.cloudtrail import pipeline, shaper, storage

__all__ = ["pipeline", "shaper", "storage"]
