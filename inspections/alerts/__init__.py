"""Alerts: what needs someone's attention, raised by an hourly job, shown in
an inbox per user (with acknowledge) and sent in a daily e-mail digest."""
