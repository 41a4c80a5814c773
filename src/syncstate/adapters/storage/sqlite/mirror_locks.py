"""Whether the holder of a mirror lock is still alive.

Lock holders are named ``HOST:PID:...`` (:class:`~syncstate.services.mirror.MirrorService`
names itself so). On the same host the process can be asked directly: a process that no
longer exists cannot hold a lock, so its lock is taken over at once instead of blocking
the retry of a killed reload for hours. Holders on other hosts, or named otherwise, are
assumed alive (their lock expires with ``stale_after``).
"""

from __future__ import annotations

import os
import socket

__all__ = ["holder_alive"]


def holder_alive(holder: str) -> bool:
    """False only when ``holder`` is provably a dead process on this host."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return True
    return True
