"""The accounts outbox: every e-mail of ``accounts`` is a row written in the caller's
transaction and delivered by a task (the alerts ``Delivery`` pattern); ``services.mail``
sends the rows.

- Nothing lost: the row commits with the user (or the reset request); a dead or stalled broker
  only delays it (the publish is one try with a short timeout, its failure is logged, and the
  ``accounts.mail_sweep`` beat task delivers what is still pending).
- Nothing sent twice: a row is claimed with a conditional UPDATE (``pending`` -> ``sending``
  with a lease); a worker killed mid-send leaves a lapsed lease that the sweep re-claims, and
  the re-send carries the same Message-ID.
- No request waits on the broker or does account-dependent work for a reset: the request
  writes one row; the task decides what (if anything) to send.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.db import transaction

from accounts.models import OutboundMail
from core.enqueue import task_send

logger = logging.getLogger("cryptocast.accounts")


def mail_enqueue(*, kind: str, to_email: str, user_id: int | None = None) -> OutboundMail:
    """Write the outbox row (in the caller's transaction); hand it to a worker on commit."""
    row = OutboundMail.objects.create(
        kind=kind, to_email=to_email, user_id=user_id, idempotency_key=uuid.uuid4().hex
    )
    mail_id = row.pk
    transaction.on_commit(lambda: mails_publish(mail_ids=[mail_id]))
    return row


def mails_publish(*, mail_ids: Sequence[int]) -> bool:
    """One publish try, no retry: a dead broker costs one short timeout and loses nothing.
    No result is awaited (the task ignores results: a publish must not touch the backend)."""
    try:
        task_send(
            "accounts.deliver_mail",
            kwargs={"mail_ids": list(mail_ids)},
            retry=False,
            ignore_result=True,
        )
    except Exception as exc:  # any broker failure: the sweep delivers the rows later
        logger.warning(
            "accounts: broker unavailable (%s), %d mails left to the sweep",
            exc.__class__.__name__,
            len(mail_ids),
        )
        return False
    return True
