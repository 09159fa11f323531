"""The workout player: a web page that runs a workout's timer on the person's own device.

The coach stays the source of truth: it hands over a plan (`plan.PlanDTO`) through the
`backend.PlayerBackend` protocol, and the page reports each finished or skipped exercise as it
happens. `web.make_app` is the aiohttp application; `auth` checks who is asking.
`coach_backend` is the core's side (the plan from the running workout, reports kept as the chat
keeps them, the offer in the chat and the switch between page and chat); `service` runs the
server in the coach's process; `settings` holds its configuration and each platform's way in.
"""
