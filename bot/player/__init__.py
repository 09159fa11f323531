"""The workout player: a web page that runs a workout's timer on the person's own device.

The coach stays the source of truth: it hands over a plan (`plan.PlanDTO`) through the
`backend.PlayerBackend` protocol, and the page reports each finished or skipped exercise as it
happens. `web.make_app` is the aiohttp application; `auth` checks who is asking.
"""
