"""Planning: the risk of every LKS, the daily plan that turns it into tasks
(routine visits, field verifications, follow-ups, urgent incident visits,
checks of unregistered LKS), the task life cycle and its calendar, and the
findings of done visits.

``services`` holds the task and finding rules, ``risk`` the risk score and
the LKS-page panel, ``feeds`` the private iCal feed, ``jobs`` the plan."""
