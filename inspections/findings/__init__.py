"""Findings outlive visits: finding -> the LKS manager's response with
evidence -> staff closure or a follow-up visit; open findings feed risk and
alerts."""
