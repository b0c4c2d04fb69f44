"""The bench's stand-in for agents and hang-ups: keeps a queue's line at a realistic depth.

A live queue is emptied as fast as it fills (routing, abandons) and capped by max_size, so
the incoming-call webhook's full-queue check counts a short line. The webhook bench sends
thousands of callers a second at a queue with no agents; without this, the line would
grow to 20,000 callers and the check would count them all, a state no real queue reaches
(Twilio's own queues stop at 5,000). Run as `python -m bench._drain <queue id> <keep>`
beside the server: every TICK it ends, as abandoned, the waiting calls beyond the newest
`keep`, in one UPDATE in its own process (so it takes the database's write lock like the
ACD worker would, and none of the load generator's CPU). It stops when stdin closes.
"""

from __future__ import annotations

import os
import sys
import threading

TICK_S = 0.02


def main(queue_id: int, keep: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.utils import timezone

    from telephony.models import Call, CallPhase

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    line = Call.objects.filter(queue_id=queue_id, phase=CallPhase.QUEUED)
    ended = 0
    while not stop.wait(TICK_S):
        # Read first, outside the write lock; write only when there is something to end.
        beyond_kept = line.order_by("-enqueued_at", "-id").values_list("id", flat=True)[keep:]
        ids = list(beyond_kept[:5000])
        if ids:
            ended += Call.objects.filter(pk__in=ids, phase=CallPhase.QUEUED).update(
                phase=CallPhase.ABANDONED, ended_at=timezone.now(), queue_exit="bench"
            )
    print(ended, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
