"""The monthly report for the head of the office: figures of one calendar
month (WIB), as PDF and XLSX, kept, listed, and e-mailed to subscribers."""
