"""What people see of their progress: the ladders and "why" (report.py), the pain chart
(chart.py gathers, drawing.py draws it off the event loop), and the weekly summary
(summary.py)."""
