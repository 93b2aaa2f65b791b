"""The Elastic cell for Windows logsources: Sigma's Windows rules on the documents Elastic's Windows
and System integrations store (Sysmon, Security, PowerShell and every other event-log channel).

``pipeline`` maps Sigma's Windows field names to where the integrations' ingest pipelines put them,
``shaper`` turns a raw evtx_dump event into that document (``evtx`` renders it as the agent does,
then the data stream's pipeline), ``storage`` names the index patterns, ``index_mapping`` the field
types the evaluators use.
"""

from backends.elastic.windows import pipeline, shaper, storage

__all__ = ["pipeline", "shaper", "storage"]
