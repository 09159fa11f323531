"""The same update delivered twice: Telegram after a crash or to a second poller, Discord after a
gateway replay. Whatever it is (typed pain, a button, "done", a settings change, "delete my
data"), the second delivery changes nothing and says nothing; an update whose answer never went
out gets that answer when it comes again. Played through the core with the update ids a
platform adapter passes in (tests/test_telegram_redelivery.py and tests/test_discord.py do it
over the wire)."""
from __future__ import annotations

import asyncio

from chat import Person, RecordingAdapter
from bot.delivery import SendBudget
from bot.events import Text
from bot.replies import Reply


def pain_rows(coach, person: Person, kind: str | None = None) -> list[tuple[int, str]]:
    store = coach.services.store
    user = store.find_user(person.key)
    return [(p.score, p.kind) for p in store.pain_reports(user.id) if kind in (None, p.kind)]


async def test_typed_pain_delivered_twice_is_noted_once_and_answered_once(coach, ana):
    await ana.onboards()
    first = await ana.says("pain 4", update="101")
    again = await ana.says("pain 4", update="101")
    assert first[0].text.startswith("Thanks, I've noted your back pain at 4/10") and again == []
    assert pain_rows(coach, ana, "adhoc") == [(4, "adhoc")]
    await ana.says("pain 4", update="102")  # the same words in a new update count again
    assert pain_rows(coach, ana, "adhoc") == [(4, "adhoc"), (4, "adhoc")]


async def test_two_pollers_handing_over_the_same_update_at_once_make_one_effect(coach, ana):
    await ana.onboards()
    same = Text(ana.key, "pain 6", update="201")
    await asyncio.gather(coach.handle(same), coach.handle(same))
    assert pain_rows(coach, ana, "adhoc") == [(6, "adhoc")]
    assert len([r for r in ana.replies if r.text.startswith("Thanks, I've noted your back pain at 6/10")]) == 1


async def test_a_pain_button_pressed_after_a_workout_counts_once(coach, ana):
    await ana.onboards()
    await ana.trains()
    first = await ana.presses("2", update="301")
    assert first[0].text.startswith("Noted: pain 2/10")
    assert await ana.presses("2", update="301") == []  # the button is still there: the same press
    assert pain_rows(coach, ana, "after") == [(2, "after")]
    store = coach.services.store
    assert len(store.stage_changes(store.find_user(ana.key).id)) == 0
    assert store.find_user(ana.key).state == "ready"


async def test_done_delivered_again_does_not_end_the_next_set(coach, adapter, ana):
    """At a set done at one's own pace, "done" ends the set. The same "done" delivered again
    while the next set waits must leave that set waiting."""
    await ana.onboards()
    await ana.starts_session()
    await adapter.wait(lambda s: s.user == ana.key and 'Say "done"' in s.reply.text, 30)
    await coach.settled(ana.key)
    await ana.says("done", update="401")
    mark = len(adapter.sent)
    await adapter.wait(lambda s: s.user == ana.key and 'Say "done"' in s.reply.text, 30, mark)
    await coach.settled(ana.key)
    assert coach.running(ana.key).waiting_for_person
    assert await ana.says("done", update="401") == []
    assert coach.running(ana.key).waiting_for_person  # still waiting for this set's "done"
    await ana.stops()


async def test_a_settings_change_delivered_twice_is_confirmed_once(coach, ana):
    await ana.onboards()
    changed = await ana.says("settings time 9am", update="501")
    assert "09:00" in changed[0].text
    assert await ana.says("settings time 9am", update="501") == []


async def test_delete_my_data_delivered_again_leaves_no_new_trace(coach, ana):
    """Without the ledger the second "Yes, delete everything" would meet nobody and start a new
    profile for the person who just asked to be forgotten."""
    await ana.onboards()
    await ana.says("delete my data")
    done = await ana.presses("Yes, delete everything", update="601")
    assert done and coach.services.store.find_user(ana.key) is None
    assert await ana.presses("Yes, delete everything", update="601") == []
    assert coach.services.store.find_user(ana.key) is None


class StallingAdapter(RecordingAdapter):
    """Stands for a process that dies while sending: the send never comes back."""

    def __init__(self, coach) -> None:
        super().__init__(coach, SendBudget())
        self.stalled = asyncio.Event()
        self.stalling = False

    async def send(self, user, reply: Reply, context) -> None:
        if self.stalling:
            self.stalled.set()
            await asyncio.Event().wait()
        await super().send(user, reply, context)


async def test_an_update_stored_but_never_answered_gets_its_answer_when_it_comes_again(coach):
    adapter = StallingAdapter(coach)
    ana = Person(coach, adapter, "ana", "Ana")
    await ana.onboards()
    adapter.stalling = True
    cut_off = asyncio.create_task(ana.says("pain 7", update="701"))
    await asyncio.wait_for(adapter.stalled.wait(), 10)
    cut_off.cancel()  # the answer never left
    await asyncio.gather(cut_off, return_exceptions=True)
    assert pain_rows(coach, ana, "adhoc") == [(7, "adhoc")]  # the effect was committed
    adapter.stalling = False
    again = await ana.says("pain 7", update="701")
    assert again[0].text.startswith("Thanks, I've noted your back pain at 7/10")  # the stored answer, sent now
    assert pain_rows(coach, ana, "adhoc") == [(7, "adhoc")]
    assert await ana.says("pain 7", update="701") == []  # now it is all out: nothing more


async def test_someone_else_reusing_an_update_id_gets_none_of_its_answers(coach):
    """Ana's answer did not go out yet when an update carrying her update's id arrives from Ben
    (only a forged update can do that). Ben gets nothing, Ana's answer stays hers."""
    adapter = StallingAdapter(coach)
    ana, ben = Person(coach, adapter, "ana", "Ana"), Person(coach, adapter, "ben", "Ben")
    await ana.onboards()
    await ben.onboards()
    adapter.stalling = True
    cut_off = asyncio.create_task(ana.says("pain 7", update="801"))
    await asyncio.wait_for(adapter.stalled.wait(), 10)
    cut_off.cancel()
    await asyncio.gather(cut_off, return_exceptions=True)
    adapter.stalling = False
    assert await ben.says("pain 2", update="801") == []
    assert pain_rows(coach, ben, "adhoc") == []
    again = await ana.says("pain 7", update="801")
    assert again[0].text.startswith("Thanks, I've noted your back pain at 7/10")
