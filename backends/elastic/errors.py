"""The error Elastic's pipeline parts raise for what the stored documents cannot answer."""

from __future__ import annotations

from sigma.exceptions import SigmaTransformationError


class ElasticUnsupported(SigmaTransformationError):
    """A construct the Elastic integration's documents cannot answer faithfully."""
