"""Splunk cell for Windows logsources: XML-rendered events of the Splunk Add-on for Microsoft Windows
and the Splunk Add-on for Sysmon (``pipeline.py`` field names, ``shaper.py`` the event a search sees,
``storage.py`` index/source/sourcetype)."""
