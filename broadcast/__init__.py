"""Notices from the ward's community digital technology team to subscribed citizens.

How a notice travels (module by module):

* ``subscriptions``: a citizen's areas and topics, stored only after consent (``/dangky``);
  ``/huy`` and a Zalo OA unfollow delete it.
* ``teams``: admins come from config; members and radio operators join with a one-time code
  and may only target their own areas. ``audit`` records every team and CLI action.
* ``announcements``: a notice is ``scheduled``, ``sending``, ``done`` or ``cancelled``.
  Releasing it (now, or when the scheduler says so) creates a *run* and one outbox row per
  recipient in the same transaction; a repeating notice gets a run per occurrence.
* ``scheduler``: APScheduler 3 with its job store in the database, run by one process at a
  time (PostgreSQL advisory lock); jobs only release notices.
* ``outbox`` and ``sender``: senders claim rows (``FOR UPDATE SKIP LOCKED``), pace them with
  limits kept in the database (``ratelimit``: per channel and per chat, shared by every
  process), keep platform rules by deferring (``rules``), retry with backoff and record each
  result right after the send. A sender killed mid-send leaves at most its in-flight rows to
  be sent twice; everything else is sent exactly once.
* ``cli``: ``trolyso announce create|list|cancel|status`` and ``trolyso team invite``;
  ``chat``: the notice conversations plugged into the assistant (``/dangky``, ``/thongbao``...);
  ``store``: the database side they reach through the ``NOTICES`` port.
"""
