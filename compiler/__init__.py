"""detc: a detection compiler from Sigma rules to SIEM and cloud-native detections."""

__version__ = "0.1.0"
