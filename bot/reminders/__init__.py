"""Morning reminders: when each is due (times.py, schedule.py), the tables that keep them and
their log (book.py), the service that wakes up and the fan-out that sends within the
platforms' budgets (service.py, fanout.py), what a reminder says and snooze/skip (messages.py,
card.py), the next-morning pain check (morning.py) and the reminder settings conversation
(settings_chat.py). Tunables in config.py."""
