"""Onboarding: the introduction (what the coach is and is not), the warning-sign screen and its
verdict, the starting pain, the hamstring test, and the morning reminder time and zone
(flow.py asks, screening.py judges)."""
