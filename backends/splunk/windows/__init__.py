"""The Splunk cell for Windows logsources: XML-rendered events of the Splunk Add-on for Microsoft
Windows and the Splunk Add-on for Sysmon (``pipeline`` field names and the logsource's selection,
``shaper`` the event a search sees, ``storage`` index/source/sourcetype)."""

from backends.splunk.windows import pipeline, shaper, storage

__all__ = ["pipeline", "shaper", "storage"]
