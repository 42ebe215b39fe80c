"""The tip line: intake on every channel, triage that explains itself, leads routed to
the responsible field office, deadlines kept around the clock."""
