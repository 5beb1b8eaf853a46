"""Pure domain: orders, their lifecycle and their events. No AWS here."""
