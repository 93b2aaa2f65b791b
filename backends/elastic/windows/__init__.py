"""The Elastic cell for Windows logsources: Sigma's Windows rules on the documents Elastic's Windows
and System integrations store (Sysmon, Security, PowerShell and every other event-log channel)."""
